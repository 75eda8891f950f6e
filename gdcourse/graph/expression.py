"""Building a computational graph from text: ``parse("tanh(w * x + b)", w=0.5, x=2.0, b=-1.0)``.

The text is parsed with :mod:`ast` and never executed; only numbers, the given
variables, ``+ - * / **`` (constant exponent), unary minus and a few functions
of one argument are allowed.
"""

from __future__ import annotations

import ast
import math

from gdcourse.graph.engine import Value

__all__ = ["parse", "FUNCTIONS"]


FUNCTIONS = {"exp": Value.exp, "log": Value.log, "tanh": Value.tanh, "sigmoid": Value.sigmoid,
             "relu": Value.relu}
"""Functions :func:`parse` accepts, by name."""

_BINARY = {ast.Add: Value.__add__, ast.Sub: Value.__sub__, ast.Mult: Value.__mul__,
           ast.Div: Value.__truediv__}
_MAX_LENGTH = 2000


def parse(expression: str, **values) -> Value:
    """Build the graph of ``expression`` over the named ``values`` and return its output node.

    Only numbers, the given variable names, ``+ - * / **`` (constant exponent),
    unary minus and calls ``exp, log, tanh, sigmoid, relu`` with one argument are
    allowed; the text is parsed with :mod:`ast` and never executed, so anything else
    (attributes, other calls, subscripts, unknown names) raises ``ValueError`` naming
    the offending piece. Each variable becomes one leaf ``Value`` labelled with its
    name (a ``Value`` passed in is used as it is), shared by all its uses.

    >>> y = parse("tanh(w * x + b)", w=0.5, x=2.0, b=-1.0)
    >>> y.data
    0.0
    """
    if not isinstance(expression, str):
        raise TypeError(f"expression: expected a str, got {type(expression).__name__}")
    if len(expression) > _MAX_LENGTH:
        raise ValueError(f"expression: expected at most {_MAX_LENGTH} characters, got {len(expression)}")
    leaves = {name: _leaf(name, v) for name, v in values.items()}
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as err:
        raise ValueError(f"expression: not a valid expression ({err.msg}): {expression!r}") from None
    return _evaluate(tree.body, expression, leaves)


def _leaf(name, value):
    if isinstance(value, Value):
        return value
    try:
        return Value(value, label=name)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{name}: {str(err).removeprefix('Value: ')}") from None


def _evaluate(root, text, leaves):
    """Post-order walk with an explicit stack (long sums nest deeply on the left)."""
    results = {}
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if not expanded:
            stack.append((node, True))
            stack.extend((child, False) for child in _operands(node, text, leaves))
            continue
        args = [results.pop(id(child)) for child in _operands(node, text, leaves)]
        results[id(node)] = _apply(node, args, text, leaves)
    return results[id(root)]


def _operands(node, text, leaves):
    """The sub-expressions to evaluate first; rejects every node type that is not allowed."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ValueError(f"expression: only numbers are allowed as constants, got {_piece(node, text)}")
        if not _is_finite(node.value):
            raise ValueError(f"expression: the constant {_piece(node, text)} is beyond float64's range")
        return []
    if isinstance(node, ast.Name):
        if node.id not in leaves:
            known = ", ".join(sorted(leaves)) or "none"
            raise ValueError(f"expression: unknown name {node.id!r}; the variables given are: {known}")
        return []
    if isinstance(node, ast.BinOp):
        if type(node.op) in _BINARY:
            return [node.left, node.right]
        if isinstance(node.op, ast.Pow):
            _constant_exponent(node.right, text)
            return [node.left]
        name = type(node.op).__name__
        raise ValueError(f"expression: operator {name} is not allowed in {_piece(node, text)}")
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub):
            return [node.operand]
        raise ValueError(f"expression: only unary minus is allowed, got {_piece(node, text)}")
    if isinstance(node, ast.Call):
        return [_call_argument(node, text)]
    if isinstance(node, ast.Attribute):
        raise ValueError(f"expression: attribute access is not allowed: {_piece(node, text)}")
    raise ValueError(f"expression: {type(node).__name__} is not allowed: {_piece(node, text)}")


def _is_finite(number) -> bool:
    try:
        return math.isfinite(float(number))
    except OverflowError:  # an int beyond float64
        return False


def _call_argument(node, text):
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        allowed = ", ".join(FUNCTIONS)
        raise ValueError(f"expression: calling {_piece(node.func, text)} is not allowed; "
                         f"the functions are {allowed}")
    if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
        raise ValueError(f"expression: {node.func.id} takes exactly one argument, got {_piece(node, text)}")
    return node.args[0]


def _constant_exponent(node, text):
    """An exponent must be a number, possibly negated: ``x**2``, ``x**-0.5``."""
    inner = node.operand if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) else node
    if not (isinstance(inner, ast.Constant) and isinstance(inner.value, (int, float))
            and not isinstance(inner.value, bool)):
        raise ValueError(f"expression: an exponent must be a number, got {_piece(node, text)}")
    return -inner.value if inner is not node else inner.value


def _apply(node, args, text, leaves):
    if isinstance(node, ast.Constant):
        return Value(node.value, label=f"{node.value:g}")
    if isinstance(node, ast.Name):
        return leaves[node.id]
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow):
            return args[0] ** _constant_exponent(node.right, text)
        return _BINARY[type(node.op)](*args)
    if isinstance(node, ast.UnaryOp):
        return -args[0]
    return FUNCTIONS[node.func.id](args[0])


def _piece(node, text):
    """The source text of ``node`` (for error messages)."""
    return repr(ast.get_source_segment(text.strip(), node) or ast.dump(node))
