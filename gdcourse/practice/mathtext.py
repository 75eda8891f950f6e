"""Math the candidate can read: LaTeX in the bank as Unicode text (terminal) or MathML (HTML).

The bank writes math as ``$…$`` or ``$$…$$`` inside Markdown, and the ``formula`` field is
bare LaTeX. Two converters, both maintained libraries:

- :func:`to_unicode` (terminal): each math span goes through pylatexenc's
  ``LatexNodes2Text``, extended where its defaults lose meaning: ``\\frac{a+b}{c}`` becomes
  ``(a+b)/c`` (not ``a+b/c``), ``\\|x\\|`` keeps its norm bars ``‖x‖``, ``_{t+1}``
  becomes ``ₜ₊₁`` when Unicode has every sub/superscript character and ``_(t+1)``
  otherwise, ``\\sqrt{x+ε}`` becomes ``√(x+ε)``.
- :func:`to_html` (browser): prose is HTML-escaped and each math span becomes MathML
  by latex2mathml, which Chromium and Firefox render without any network or script.

Only the *splitting* of text into prose and math spans is done here (a ``$`` scanner);
the LaTeX itself is never rewritten by regular expressions.
"""

from __future__ import annotations

import functools
import html

__all__ = ["split_math", "latex_to_unicode", "to_unicode", "latex_to_mathml", "to_html"]

_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvxβγρφχ", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ", strict=True))
_SUP = dict(zip("0123456789+-=()abcdefghijklmnoprstuvwxyzTβγδθφχ⊤′*",
                "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᵀᵝᵞᵟᶿᵠᵡᵀ′*", strict=True))


def split_math(text: str) -> list[tuple[bool, str]]:
    """``text`` as (is_math, piece) pairs: ``$$…$$`` and ``$…$`` spans are math (delimiters dropped).

    ``\\$`` is a literal dollar. An unclosed ``$`` is kept as prose.
    """
    pieces: list[tuple[bool, str]] = []
    prose, i = [], 0
    while i < len(text):
        if text.startswith("\\$", i):
            prose.append("$")
            i += 2
            continue
        if text[i] == "$":
            fence = "$$" if text.startswith("$$", i) else "$"
            end = text.find(fence, i + len(fence))
            if end != -1:
                if prose:
                    pieces.append((False, "".join(prose)))
                    prose = []
                pieces.append((True, text[i + len(fence):end]))
                i = end + len(fence)
                continue
        prose.append(text[i])
        i += 1
    if prose:
        pieces.append((False, "".join(prose)))
    return pieces


def _needs_parens(text: str) -> bool:
    return len(text) > 1 and any(c in text for c in " +-−=,/·×") and text[0] + text[-1] not in {"()", "[]"}


def _wrapped(text: str) -> str:
    text = text.strip()
    return f"({text})" if _needs_parens(text) else text


def _script(text: str, table: dict, mark: str) -> str:
    text = text.strip()
    if text and all(c in table for c in text):
        return "".join(table[c] for c in text)
    return mark + (f"({text})" if len(text) > 1 else text)


@functools.cache
def _converter():
    from pylatexenc import latexwalker
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
    from pylatexenc.macrospec import MacroSpec

    def frac(node, l2tobj):
        return f"{_wrapped(l2tobj.node_arg_to_text(node, 0))}/{_wrapped(l2tobj.node_arg_to_text(node, 1))}"

    def sqrt(node, l2tobj):
        return "√" + _wrapped(l2tobj.node_arg_to_text(node, 1))

    def accent(mark):
        return lambda node, l2tobj: l2tobj.node_arg_to_text(node, 0).strip() + mark

    macros = [MacroTextSpec(name, simplify_repl=frac) for name in ("frac", "tfrac", "dfrac")]
    macros += [MacroTextSpec("sqrt", simplify_repl=sqrt),
               MacroTextSpec("bar", simplify_repl=accent("\u0304")),
               MacroTextSpec("tilde", simplify_repl=accent("\u0303")),
               MacroTextSpec("binom", simplify_repl=lambda n, l2tobj: f"C({l2tobj.node_arg_to_text(n, 0)}, "
                                                                     f"{l2tobj.node_arg_to_text(n, 1)})")]
    words = {"|": "‖", "iff": " ⇔ ", "arg": "arg ", "mapsto": "↦", "xrightarrow": "→", "ll": "≪", "gg": "≫",
             "perp": "⊥", "ne": "≠", "subset": "⊂", "forall": "∀", "prime": "′", "star": "⋆",
             "operatorname": "%(1)s", "mathrel": "%(1)s", "textstyle": "", "!": "", "langle": "⟨",
             "rangle": "⟩", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "odot": "⊙",
             "propto": "∝", "cdots": "⋯", "dots": "…", "mid": " | "}
    macros += [MacroTextSpec(name, simplify_repl=text) for name, text in words.items()]
    db = get_default_latex_context_db()
    db.add_context_category("gdcourse", macros=macros, environments=[], prepend=True)
    # what the parser must know: which macros take arguments (pylatexenc's defaults miss these)
    parse_db = latexwalker.get_default_latex_context_db()
    parse_db.add_context_category("gdcourse", prepend=True, environments=[], macros=[
        MacroSpec("operatorname", "{"), MacroSpec("mathrel", "{"), MacroSpec("xrightarrow", "{"),
        MacroSpec("tfrac", "{{"), MacroSpec("dfrac", "{{"), MacroSpec("binom", "{{"),
        MacroSpec("bar", "{"), MacroSpec("tilde", "{")])

    class _Math2Text(LatexNodes2Text):
        """pylatexenc's converter with sub- and superscript groups kept apart from what follows."""

        def nodelist_to_text(self, nodelist):
            out, previous = "", None
            for node in nodelist:
                text = self.node_to_text(node)
                if self._is_bare_macro_node(previous) and (node.isNodeType(latexwalker.LatexCharsNode)
                                                           or node.isNodeType(latexwalker.LatexMacroNode)):
                    text = previous.macro_post_space + text  # "\eta < 2" keeps its space
                previous = node
                script = node.isNodeType(latexwalker.LatexGroupNode) or node.isNodeType(latexwalker.LatexMacroNode)
                if script and out[-1:] in {"_", "^"}:
                    mark, out = out[-1], out[:-1]
                    text = _script(text, _SUB if mark == "_" else _SUP, mark)
                elif node.isNodeType(latexwalker.LatexCharsNode):
                    text = _inline_scripts(text)
                out += text
            return out

    converter = _Math2Text(latex_context=db, math_mode="text")

    def convert(latex: str) -> str:
        walker = latexwalker.LatexWalker(latex, latex_context=parse_db, tolerant_parsing=True)
        return converter.nodelist_to_text(walker.get_latex_nodes()[0])

    return convert


def _inline_scripts(chars: str) -> str:
    """``x_t`` and ``x^2`` inside one run of characters: one-character scripts to Unicode."""
    out, i = [], 0
    while i < len(chars):
        c = chars[i]
        if c in "_^" and i + 1 < len(chars) and chars[i + 1] != " ":
            table = _SUB if c == "_" else _SUP
            if chars[i + 1] in table:
                out.append(table[chars[i + 1]])
                i += 2
                continue
        out.append(c)
        i += 1
    return "".join(out)


@functools.cache
def latex_to_unicode(latex: str) -> str:
    """One LaTeX math expression as plain Unicode text (``\\frac{1}{n}`` -> ``1/n``)."""
    text = _converter()(latex)
    return " ".join(text.split())


def to_unicode(text: str) -> str:
    """Markdown with ``$…$`` math: the prose kept, each math span as Unicode text."""
    return "".join(latex_to_unicode(piece) if is_math else piece for is_math, piece in split_math(text))


_MATHML_SPELLINGS = {"\\arg": "\\operatorname{arg}", "\\Big\\lfloor": "\\lfloor", "\\Big\\rfloor": "\\rfloor",
                     "\\big\\lfloor": "\\lfloor", "\\big\\rfloor": "\\rfloor"}


@functools.cache
def latex_to_mathml(latex: str, display: bool = False) -> str:
    """One LaTeX expression as a ``<math>`` element (latex2mathml); Unicode text if it cannot parse."""
    from latex2mathml.converter import convert

    for unknown, known in _MATHML_SPELLINGS.items():  # macros latex2mathml does not know, as it knows them
        latex = latex.replace(unknown, known)
    try:
        return convert(latex, display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - a formula latex2mathml cannot parse still reads as text
        return f"<span class=\"math\">{html.escape(latex_to_unicode(latex))}</span>"


def to_html(text: str, escape=html.escape) -> str:
    """Text with ``$…$`` math as HTML: prose through ``escape``, math as MathML."""
    return "".join(latex_to_mathml(piece) if is_math else escape(piece) for is_math, piece in split_math(text))
