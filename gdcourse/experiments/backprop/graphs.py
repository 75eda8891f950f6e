"""Computational graphs: what the graph explorer shows for an expression typed by the learner.

The engine, the parser and the drawing are :mod:`gdcourse.graph`'s; this module only turns the
explorer's two text boxes into a graph after ``backward()``, or into an error message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from gdcourse import graph

__all__ = ["parse_values", "GraphView", "graph_view"]

_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*(\S+)\s*$")


def parse_values(text) -> dict:
    """``"x=2, w=-0.5"`` → ``{"x": 2.0, "w": -0.5}`` (commas or semicolons between assignments)."""
    if not isinstance(text, str):
        raise TypeError(f"values: expected a str like 'x=2, w=-0.5', got {type(text).__name__}")
    values = {}
    for piece in filter(str.strip, re.split(r"[,;]", text)):
        match = _ASSIGNMENT.match(piece)
        if match is None:
            raise ValueError(f"values: expected name=number, got {piece.strip()!r}")
        name, number = match.groups()
        try:
            values[name] = float(number)
        except ValueError:
            raise ValueError(f"values: {name} must be a number, got {number!r}") from None
        if not np.isfinite(values[name]):
            raise ValueError(f"values: {name} must be finite, got {number!r}")
    return values


@dataclass(frozen=True)
class GraphView:
    """What the graph explorer shows: the output node after ``backward()``, or why there is none.

    ``rows``: one ``(name, operation, data, grad)`` per node in topological order
    (inputs first, the output last); ``error`` is the message of a bad expression.
    """

    expression: str
    values: dict
    root: graph.Value | None
    rows: tuple
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def _node_name(node, names):
    if node.label:
        return node.label
    names.setdefault(id(node), f"n{len(names) + 1}")
    return names[id(node)]


def graph_view(expression, values="", max_nodes=60) -> GraphView:
    """Parse ``expression`` over ``values`` (a dict or ``"x=2, w=-0.5"``), run forward and backward.

    Never raises for a bad expression or value: the message (from
    :func:`gdcourse.graph.parse`, a division by zero, a log of a negative number…)
    is returned in ``error``, so an explorer can show it instead of a traceback.
    """
    try:
        vals = parse_values(values) if isinstance(values, str) else dict(values)
        root = graph.parse(expression, **vals)
        order = graph.nodes(root)
        if len(order) > max_nodes:
            raise ValueError(f"the expression has {len(order)} nodes; at most {max_nodes} fit in a drawing")
        root.backward()
    except (ValueError, TypeError, ZeroDivisionError, OverflowError) as err:
        return GraphView(str(expression), {}, None, (), str(err))
    names = {}
    rows = tuple((_node_name(n, names), n.op or "input", n.data, n.grad) for n in order)
    return GraphView(expression, vals, root, rows, None)
