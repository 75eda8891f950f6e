"""Text normalization for judging typed answers: one canonical form for words, formulas and numbers.

A candidate writes "β₂", "beta2", "\\beta_2" or "beta_2" for the same symbol,
"1/(1−β₂)" or "1/(1-beta2)" for the same formula, "1e-3", "0.001" or "10^-3" for
the same number, and "normalizes", "normalizing" or "normalization" for the
same idea. :func:`words` maps free text to a list of stemmed word tokens,
:func:`compact` to a space-free formula string and :func:`numbers` to the
numeric values it quotes; the judge (:mod:`gdcourse.practice.judge`) compares
rubric phrases and answers in these forms. Offline, deterministic, standard
library only.
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = ["NEGATORS", "compact", "numbers", "stem", "to_ascii", "words"]

GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi", "π": "pi",
    "ρ": "rho", "σ": "sigma", "τ": "tau", "φ": "phi", "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
    "Δ": "delta", "Σ": "sum", "∑": "sum", "Π": "prod", "Θ": "theta", "Λ": "lambda", "Ω": "omega",
    "∇": " nabla ", "∂": " partial ", "√": " sqrt", "∞": " inf ",
}
SYMBOLS = {
    "−": "-", "–": "-", "—": " - ", "×": "*", "·": "*", "⋅": "*", "∗": "*", "÷": "/", "≈": "~", "∼": "~",
    "≤": "<=", "≥": ">=", "≠": "!=", "←": "<-", "→": "->", "⇒": "->", "⊙": "*", "∘": "*", "‖": "||",
    "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...",
}
LATEX_WORDS = {"cdot": "*", "times": "*", "odot": "*", "leftarrow": "<-", "gets": "<-", "rightarrow": "->",
               "to": "->", "approx": "~", "sim": "~", "le": "<=", "leq": "<=", "ge": ">=", "geq": ">=",
               "infty": "inf", "quad": " ", "qquad": " ", "lvert": "|", "rvert": "|", "ell": "l"}
LATEX_DROP = ("left", "right", "big", "Big", "bigg", "Bigg", "mathrm", "mathbf", "mathcal", "text",
              "operatorname", "boldsymbol", "mathbb", "displaystyle", "tfrac", "dfrac", "hat", "bar",
              "tilde", "vec", "textbf", "textit", "emph", "mathit")
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\s*\{([^{}]*)\}")
_COMMAND = re.compile(r"\\([A-Za-z]+)")
_DROPPED = re.compile(r"\\(?:" + "|".join(LATEX_DROP) + r")(?![A-Za-z])\s*")
_SPACING = re.compile(r"\\[,;:! ]")
_SUBSCRIPT = re.compile(r"(?<=[A-Za-z])\s*_(?:\{(\d{1,2})\}|(\d{1,2}))")
_SUPERSCRIPT_BRACES = re.compile(r"\^\{([^{}]*)\}")
_POWER_OF_TEN = re.compile(r"10\s*\^\s*(?:\(\s*([-+]?\d+)\s*\)|([-+]?\d+))")
_TIMES_POWER = re.compile(r"(\d(?:\.\d+)?)\s*\*\s*1e([-+]?\d+)")
_NUMBER = re.compile(r"(?<![A-Za-z_\d.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?%?(?![\d])")
_TOKEN = re.compile(r"[a-z]+\d*|\d+(?:\.\d+)?")

NEGATORS = frozenset({"not", "no", "never", "without", "cannot", "nor", "neither",
                      "isnt", "doesnt", "dont", "arent", "wont", "cant", "didnt"})  # not "nothing": "nothing but"
STOPWORDS = frozenset("""a an the of to in on at for by with and or as is are was were be been being it its this that
these those which who whom there their so such into onto from via any some
can may might will would should could do does did has have had also very
we you your our i""".split())
_CONTRACTIONS = re.compile(r"\b(is|does|do|are|was|were|wo|ca|did|has|have|had|could|would|should)n[’']t\b")


def to_ascii(text: str) -> str:
    """Greek letters and math symbols to ASCII names, LaTeX to plain notation; case kept.

    ``"\\frac{1}{1-\\beta_2}"``, ``"1/(1−β₂)"`` and ``"1/(1-beta_2)"`` all give
    ``"(1)/(1-beta2)"`` or ``"1/(1-beta2)"`` (see :func:`compact` for the form
    that ignores those brackets).
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected str, got {type(text).__name__}")
    text = _CONTRACTIONS.sub(lambda m: m.group(1) + "nt", text.replace("can't", "cant").replace("won't", "wont"))
    text = "".join(GREEK.get(ch, SYMBOLS.get(ch, ch)) for ch in text)
    text = unicodedata.normalize("NFKC", text)  # sub- and superscript digits, ligatures, full-width forms
    text = text.replace("$", " ")
    if "\\" in text:  # LaTeX
        text = _SUBSCRIPT.sub(lambda m: m.group(1) or m.group(2), _DROPPED.sub("", text))
        for _ in range(3):  # nested roots and fractions, innermost first
            text = _FRAC.sub(r"(\1)/(\2)", _SQRT.sub(r"sqrt(\1)", text))
        text = _COMMAND.sub(_latex_command, _SPACING.sub(" ", text))
    text = _SUPERSCRIPT_BRACES.sub(r"^(\1)", text)
    text = _SUBSCRIPT.sub(lambda m: m.group(1) or m.group(2), text)
    return text.replace("{", "").replace("}", "")


def _latex_command(match: re.Match) -> str:
    name = match.group(1)
    if name in LATEX_DROP:
        return ""
    return LATEX_WORDS.get(name, f" {name}" if len(name) > 1 else name)


# (suffix, replacement, shortest stem kept), longest suffixes first; one rule per word. Families end alike:
# normalize/normalizes/normalization -> "normaliz", oscillate/oscillation -> "oscillat", speed/speeds -> "speed".
_SUFFIXES = tuple(sorted([
    ("izations", "iz", 3), ("isations", "iz", 3), ("ization", "iz", 3), ("isation", "iz", 3),
    ("izing", "iz", 3), ("ising", "iz", 4), ("izers", "iz", 3), ("izer", "iz", 3), ("izes", "iz", 3),
    ("ises", "iz", 4), ("ized", "iz", 3), ("ised", "iz", 4), ("ize", "iz", 3), ("ise", "iz", 4),
    ("ations", "at", 3), ("ation", "at", 3), ("ating", "at", 3), ("ated", "at", 3), ("ates", "at", 3),
    ("ators", "at", 3), ("ator", "at", 3), ("ate", "at", 3), ("ilities", "l", 3), ("ility", "l", 3),
    ("ities", "", 3), ("ity", "", 3), ("ences", "", 4), ("ence", "", 4), ("iveness", "", 3), ("ness", "", 3),
    ("ments", "", 3), ("ment", "", 3), ("ically", "", 3), ("ally", "", 3), ("ical", "", 3), ("ively", "", 3),
    ("ive", "", 3), ("ers", "", 3), ("er", "", 3), ("ings", "", 3), ("ing", "", 3), ("ied", "i", 3),
    ("ies", "i", 3), ("ed", "", 4), ("ly", "", 3), ("es", "", 3), ("s", "", 3), ("al", "", 4), ("e", "", 3),
    ("y", "", 3)], key=lambda rule: -len(rule[0])))


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English suffix rewriter: one rule per word, the same for rubric phrases and answers.

    It only has to map the variants of a word to one form ("normalizes",
    "normalizing", "normalization" -> "normaliz"), not to a dictionary root.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, replacement, keep in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            word = word[: -len(suffix)] + replacement
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "ls":  # "stopped" -> "stopp" -> "stop"
        word = word[:-1]
    return word


def words(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """Stemmed lower-case word tokens of ``text`` (Greek letters as names, LaTeX unwrapped).

    Negation words (``not``, ``never``, ``doesn't``) become the token ``"not"`` so
    the judge can see them; other stop words are dropped unless ``keep_stopwords``.
    Each sentence end (and semicolon, not colon: "does not tell you: how far") is
    kept as the token ``"."``, so a negation does not reach across sentences.
    """
    plain = to_ascii(text).lower().replace("_", " ")
    tokens: list[str] = []
    for sentence in re.split(r"[.;!?]+(?:\s|$)|\n\s*\n|\n\s*[-*]\s", plain):
        for token in _TOKEN.findall(sentence):
            if token in NEGATORS:
                tokens.append("not")
            elif keep_stopwords or token not in STOPWORDS:
                tokens.append(stem(token))
        tokens.append(".")
    return tokens


def compact(text: str) -> str:
    """A formula form: ASCII, lower case, no spaces, no ``*``, brackets around single tokens dropped.

    ``"1/(1−β₂)"``, ``"1 / (1 - beta_2)"`` and ``"\\frac{1}{1-\\beta_2}"`` all give
    ``"1/(1-beta2)"``.
    """
    plain = re.sub(r"[\s*_]+", "", to_ascii(text).lower())
    for _ in range(2):
        plain = re.sub(r"\(([a-z0-9.]+)\)", r"\1", plain)
    return plain


def numbers(text: str) -> list[float]:
    """Every number quoted in ``text``: ``0.9``, ``1e-3``, ``10^-3``, ``3·10^{-4}``, ``5%`` (as 0.05)."""
    plain = to_ascii(text).lower().replace(",", " ")
    plain = _POWER_OF_TEN.sub(lambda m: f"1e{m.group(1) or m.group(2)}", plain)
    plain = _TIMES_POWER.sub(lambda m: f"{m.group(1)}e{m.group(2)}", plain)
    values = []
    for token in _NUMBER.findall(plain):
        scale = 0.01 if token.endswith("%") else 1.0
        try:
            values.append(float(token.rstrip("%")) * scale)
        except ValueError:
            continue
    return values
