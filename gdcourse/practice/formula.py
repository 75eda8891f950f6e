"""Typed formulas: is the candidate's expression the same function as the answer?

The reply is read by SymPy's parser with the usual conveniences (``^`` for powers,
implicit multiplication: ``s(1 - s)``, ``2p``) and compared with the answer by value at
``POINTS`` points drawn in (0.2, 0.9) per variable (a seeded draw, so the verdict is
deterministic): equal within a relative 1e-9 at every point means the same formula,
whatever its written form (``s - s^2`` for ``s(1 - s)``). Only the item's variables and
``FUNCTIONS`` may be named: anything else is refused before the parser sees it (the
parser evaluates Python names).
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["FUNCTIONS", "POINTS", "same_formula"]

POINTS = 7
FUNCTIONS = ("sqrt", "exp", "log", "tanh", "pi", "E")
_ALLOWED = re.compile(r"^[A-Za-z0-9_+\-*/^(). ]+$")


def _parse(text: str, variables):
    from sympy import Symbol
    from sympy.core.function import AppliedUndef
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    names = ", ".join(variables)
    if not text.strip() or not _ALLOWED.match(text):
        raise ValueError(f"answer: expected a formula in {names} (e.g. 2/({names.split(', ')[0]} + 1)), "
                         f"got {text!r}")
    # Only the item's variables and a few functions reach the parser (it evaluates Python names).
    unknown = sorted({name for name in re.findall(r"[A-Za-z_]\w*", text) if name not in variables
                      and name not in FUNCTIONS})
    if unknown:
        raise ValueError(f"answer: expected a formula in {names} only, got the unknown name(s) {', '.join(unknown)}")
    symbols = {name: Symbol(name) for name in variables}
    try:
        expression = parse_expr(text, local_dict=symbols,
                                transformations=(*standard_transformations, implicit_multiplication_application,
                                                 convert_xor))
    except (SyntaxError, TypeError, ValueError, AttributeError, ZeroDivisionError):
        raise ValueError(f"answer: expected a formula in {names}, got {text!r}") from None
    unknown = sorted({str(s) for s in expression.free_symbols} - set(variables))
    unknown += sorted({str(f.func) for f in expression.atoms(AppliedUndef)})
    if unknown:
        raise ValueError(f"answer: expected a formula in {names} only, got the unknown name(s) {', '.join(unknown)}")
    return expression, [symbols[name] for name in variables]


def same_formula(reply: str, answer: str, variables) -> bool:
    """True when ``reply`` equals ``answer`` as a function of ``variables``; ValueError if unreadable."""
    variables = tuple(variables)
    theirs, symbols = _parse(str(reply), variables)
    ours, _ = _parse(answer, variables)
    from sympy import lambdify

    points = np.random.default_rng(20250301).uniform(0.2, 0.9, size=(POINTS, len(variables)))
    try:
        got = np.array([complex(lambdify(symbols, theirs)(*row)) for row in points])
    except (ZeroDivisionError, OverflowError, TypeError, ValueError):
        return False
    want = np.array([complex(lambdify(symbols, ours)(*row)) for row in points])
    return bool(np.all(np.isfinite(got)) and np.allclose(got, want, rtol=1e-9, atol=1e-12))
