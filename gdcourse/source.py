"""``show(fn)``: the source of a function or class of the package, rendered in the notebook.

Where a section's answer *is* a short piece of code (the two momentum loops, the dropout mask, weight
decay vs an L2 penalty…), the notebook shows the package's own code instead of a copy that could drift
from it. In JupyterLab the source appears as a highlighted Python block; printed, it is plain text.
"""

from __future__ import annotations

import inspect
import textwrap

__all__ = ["Source", "show"]


class Source:
    """The source text of ``obj`` and where it lives; displayed as a Markdown code block."""

    def __init__(self, obj):
        obj = inspect.unwrap(obj)  # a decorated function (lru_cache, functools.wraps): show what it wraps
        if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)):
            raise TypeError(f"obj: expected a function, method or class, got {type(obj).__name__}")
        self.text = textwrap.dedent(inspect.getsource(obj)).rstrip() + "\n"
        module = inspect.getmodule(obj)
        self.where = f"{module.__name__}.{obj.__qualname__}" if module else obj.__qualname__

    def _repr_markdown_(self) -> str:
        return f"`{self.where}`\n```python\n{self.text}```"

    def __repr__(self) -> str:
        return f"# {self.where}\n{self.text}"


def show(obj) -> Source:
    """The source of ``obj`` (a function, method or class) as a displayable :class:`Source`.

    In a notebook cell, ``show(E.momentum_forms)`` as the last line renders the code; ``print(show(f))``
    prints it as text.
    """
    return Source(obj)
