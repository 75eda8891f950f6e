"""Scalar reverse-mode autograd, and tools to see it: ``Value``, ``backward``, a drawing, a parser.

- :mod:`gdcourse.graph.engine`: :class:`Value`, ``backward``, :func:`nodes`, :func:`edges`:
  the whole mechanism on one screen (read this one);
- :mod:`gdcourse.graph.drawing`: :func:`draw` (and the :func:`layout` it uses);
- :mod:`gdcourse.graph.expression`: :func:`parse` builds a graph from an expression.

>>> from gdcourse import graph
>>> y = graph.parse("x * x + x", x=3.0)
>>> y.backward()
>>> y.data
12.0
"""

from gdcourse.graph.drawing import draw, layout
from gdcourse.graph.engine import Value, edges, nodes
from gdcourse.graph.expression import FUNCTIONS, parse

__all__ = ["Value", "nodes", "edges", "draw", "layout", "parse", "FUNCTIONS"]
