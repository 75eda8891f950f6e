"""Math that renders: LaTeX as Unicode text in the terminal (pylatexenc) and as MathML in HTML (latex2mathml).

The whole-bank tests render every text a candidate reads (prompt, answer, key points, formula, common
mistake, test items) and assert that no raw LaTeX survives: no ``$``, no ``\\frac``, no backslash command.
"""

import re
from xml.etree import ElementTree

import pytest

from gdcourse.bank import load
from gdcourse.practice.items import load_material
from gdcourse.practice.mathtext import latex_to_mathml, latex_to_unicode, split_math, to_html, to_unicode
from gdcourse.practice.quiz import count_test_items, make_test_items
from gdcourse.practice.terminal import _answer_lines, _key_point_lines, wrap_markdown

RAW_LATEX = re.compile(r"\$|\\[A-Za-z]+")


@pytest.fixture(scope="module")
def real():
    return load()


@pytest.mark.parametrize("latex, text", [
    (r"\frac{1}{n}\sum_{i=1}^{n} x_i", "1/n∑ᵢ₌₁ⁿ xᵢ"),
    (r"\frac{a + b}{2}", "(a + b)/2"),                    # the numerator keeps its parentheses
    (r"\|\nabla f(x)\|^2", "‖∇ f(x)‖²"),
    (r"\theta_{t+1} = \theta_t - \eta g_t", "θₜ₊₁ = θₜ - η gₜ"),
    (r"\sqrt{v + \epsilon}", "√(v + ϵ)"),
    (r"W^\top x", "Wᵀ x"),
    (r"0 < \eta < 2/\lambda_{\max}", "0 < η < 2/λₘₐₓ"),
    (r"x_{\text{new}}", "x_(new)"),                       # no subscript letters for w: kept readable
])
def test_latex_to_unicode_examples(latex, text):
    assert latex_to_unicode(latex) == text


def test_split_math_keeps_prose_and_escaped_dollars():
    assert split_math(r"costs \$5, $x^2$ and $$\frac{1}{2}$$ end") == [
        (False, "costs $5, "), (True, "x^2"), (False, " and "), (True, r"\frac{1}{2}"), (False, " end")]
    assert split_math("an unclosed $ stays") == [(False, "an unclosed $ stays")]


def test_mathml_is_well_formed_and_prose_is_escaped():
    element = ElementTree.fromstring(latex_to_mathml(r"\frac{\partial L}{\partial w}"))
    assert element.tag.endswith("math") and any(child.tag.endswith("mfrac") for child in element.iter())
    assert to_html("a < b and $x^2$") .startswith("a &lt; b and <math")


def test_no_raw_latex_in_any_text_of_the_bank_in_the_terminal(real):
    bad = []
    for entry in real:
        lines = (wrap_markdown(entry.prompt) + _answer_lines(entry, 78) + _key_point_lines(entry, 78))
        bad += [f"{entry.id}: {line}" for line in lines if RAW_LATEX.search(line)]
    assert bad == []


def test_no_raw_latex_in_the_bank_as_html(real):
    bad = []
    for entry in real:
        for text in (entry.prompt, entry.answer, entry.common_mistake, *entry.key_points):
            visible = re.sub(r"<math.*?</math>", "", to_html(text), flags=re.S)
            if RAW_LATEX.search(visible):
                bad.append(entry.id)
        if entry.formula and ("\\" in re.sub(r"<[^>]+>", "", latex_to_mathml(entry.formula))):
            bad.append(entry.id + " formula")
    assert bad == []


def test_no_raw_latex_in_test_items(real):
    material = load_material(real)
    items = make_test_items(real, count_test_items(real, material=material), rng=0, material=material)
    texts = [to_unicode(t) for item in items for t in (item.question, item.explanation, *item.options)]
    assert [t for t in texts if RAW_LATEX.search(t)] == []
