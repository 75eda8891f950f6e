"""Scalar reverse-mode autograd: a computational graph of ``Value`` nodes.

Every arithmetic operation on a :class:`Value` creates a new node that remembers
its parents and a small function that, given dL/d(node), adds the node's
contribution to dL/d(parent) (the chain rule, one edge at a time). ``backward()``
visits the nodes in reverse topological order, so a node's gradient is complete
(summed over every path through it) before it is passed on. The idea is
Karpathy's micrograd (2020); this version sorts iteratively (deep graphs do not
hit Python's recursion limit), is correct when a node is used twice, and can run
``backward`` repeatedly.

>>> x = Value(3.0, "x")
>>> y = x * x + x
>>> y.backward()
>>> x.grad            # d(x² + x)/dx = 2x + 1
7.0

The drawing of a graph is in :mod:`gdcourse.graph.drawing`, the expression parser
in :mod:`gdcourse.graph.expression`; ``gdcourse.graph`` exports all three.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["Value", "nodes", "edges"]

_LOG_MAX_FLOAT = math.log(2.0**1023 * (2 - 2**-52))  # ≈ 709.78: e^x above it is not a float64


class Value:
    """One scalar node of a computational graph.

    ``data`` is always a finite float: a NaN or inf given to ``Value`` is a
    ``ValueError``, and an operation whose result overflows float64 (``exp`` of a
    large number, ``1e200 * 1e200``) raises ``OverflowError`` naming the operation.

    Attributes
    ----------
    data : float
        The value computed in the forward pass.
    grad : float
        dL/d(this node) after ``L.backward()``.
    label : str
        A name for drawings (``"x"``, ``"w1"``).
    op : str
        The operation that produced the node (``""`` for inputs and constants).
    """

    __slots__ = ("data", "grad", "label", "op", "_parents", "_backward")

    def __init__(self, data, label: str = "", *, _parents=(), _op: str = "", _backward=None):
        if isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise TypeError(f"Value: expected a real number, got {data!r} ({type(data).__name__})")
        try:
            finite = math.isfinite(data)
        except OverflowError:  # an int beyond float64
            digits = len(str(abs(data)))
            raise ValueError(f"Value: expected a number in float64's range, got an int of {digits} digits") from None
        if not finite:
            if _op:
                operands = ", ".join(f"{p.data:.6g}" for p in _parents)
                raise OverflowError(f"Value {_op}: the result of {_op} on {operands} overflows float64 ({data})")
            raise ValueError(f"Value: expected a finite number, got {data}")
        self.data = float(data)
        self.grad = 0.0
        self.label = str(label)
        self.op = _op
        self._parents = tuple(_parents)
        self._backward = _backward  # grad of this node -> adds into the parents' grads

    @property
    def parents(self) -> tuple[Value, ...]:
        """The nodes this one was computed from (empty for inputs and constants)."""
        return self._parents

    def __repr__(self):
        name = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{name})"

    # --- binary operations ---------------------------------------------------------

    def __add__(self, other):
        other = _as_value(other)
        if other is NotImplemented:
            return other

        def backward(g):
            self.grad += g
            other.grad += g

        return Value(self.data + other.data, _parents=(self, other), _op="+", _backward=backward)

    def __sub__(self, other):
        other = _as_value(other)
        if other is NotImplemented:
            return other

        def backward(g):
            self.grad += g
            other.grad -= g

        return Value(self.data - other.data, _parents=(self, other), _op="-", _backward=backward)

    def __mul__(self, other):
        other = _as_value(other)
        if other is NotImplemented:
            return other

        def backward(g):
            self.grad += other.data * g
            other.grad += self.data * g

        return Value(self.data * other.data, _parents=(self, other), _op="*", _backward=backward)

    def __truediv__(self, other):
        other = _as_value(other)
        if other is NotImplemented:
            return other
        if other.data == 0:
            raise ZeroDivisionError(f"Value division: the divisor {other!r} is 0")

        def backward(g):  # d(a/b)/da = 1/b, d(a/b)/db = −a/b² = −(a/b)/b (b² may underflow to 0)
            self.grad += g / other.data
            other.grad -= g * (self.data / other.data) / other.data

        return Value(self.data / other.data, _parents=(self, other), _op="/", _backward=backward)

    def __pow__(self, exponent):
        """``self ** k`` for a constant number ``k``; d/dx xᵏ = k xᵏ⁻¹."""
        if isinstance(exponent, bool) or not isinstance(exponent, numbers.Real):
            raise TypeError(f"Value ** k: expected a constant int or float exponent k, got {exponent!r}")
        k = float(exponent)
        if self.data < 0 and not k.is_integer():
            raise ValueError(
                f"Value ** k: a negative base {self.data} needs an integer exponent k, got {exponent}"
            )
        if self.data == 0 and k < 1 and k != 0:
            raise ZeroDivisionError(f"Value ** k: the derivative of x**{exponent} at x = 0 is infinite")

        def backward(g):
            self.grad += k * self.data ** (k - 1) * g

        try:
            data = self.data**k
        except OverflowError:
            raise OverflowError(f"Value ** k: {self.data:.6g}**{exponent:g} overflows float64") from None
        return Value(data, _parents=(self,), _op=f"**{exponent:g}", _backward=backward)

    def __radd__(self, other):  # 2 + x
        other = _as_value(other)
        return other if other is NotImplemented else other.__add__(self)

    def __rsub__(self, other):
        other = _as_value(other)
        return other if other is NotImplemented else other.__sub__(self)

    def __rmul__(self, other):
        other = _as_value(other)
        return other if other is NotImplemented else other.__mul__(self)

    def __rtruediv__(self, other):
        other = _as_value(other)
        return other if other is NotImplemented else other.__truediv__(self)

    # --- unary operations ----------------------------------------------------------

    def _unary(self, data, op, local_grad):
        """A node ``f(self)`` whose derivative at ``self.data`` is ``local_grad``."""

        def backward(g):
            self.grad += local_grad * g

        return Value(data, _parents=(self,), _op=op, _backward=backward)

    def __neg__(self):
        return self._unary(-self.data, "neg", -1.0)

    def exp(self):
        """``e^x``; derivative ``e^x``. Above x ≈ 709.78 it overflows float64: OverflowError."""
        if self.data > _LOG_MAX_FLOAT:
            raise OverflowError(f"exp: e**{self.data:.6g} overflows float64 (the largest is about e**709.78)")
        e = math.exp(self.data)
        return self._unary(e, "exp", e)

    def log(self):
        """Natural log, for ``x > 0``; derivative ``1/x``."""
        if self.data <= 0:
            raise ValueError(f"log: expected a positive argument, got {self.data}")
        return self._unary(math.log(self.data), "log", 1.0 / self.data)

    def tanh(self):
        """``tanh(x)``; derivative ``1 − tanh²(x)``."""
        t = math.tanh(self.data)
        return self._unary(t, "tanh", 1.0 - t * t)

    def sigmoid(self):
        """``σ(x) = 1/(1 + e^{−x})``, evaluated without overflow; derivative ``σ(1 − σ)``."""
        x = self.data
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return self._unary(s, "sigmoid", s * (1.0 - s))

    def relu(self):
        """``max(0, x)``; derivative 1 for x > 0, else 0."""
        return self._unary(max(self.data, 0.0), "relu", 1.0 if self.data > 0 else 0.0)

    # --- gradients -----------------------------------------------------------------

    def backward(self):
        """Fill ``grad`` of every node in this node's graph with d(self)/d(node).

        Gradients of the inputs (nodes without parents) accumulate across calls, as
        in PyTorch; gradients of the intermediate nodes are recomputed from zero on
        every call, so running ``backward`` twice never double-counts through them.
        Call :meth:`zero_grad` to start the inputs from zero again.
        """
        order = nodes(self)
        for node in order:
            if node._parents:
                node.grad = 0.0
        self.grad += 1.0
        for node in reversed(order):
            if node._backward is not None:
                node._backward(node.grad)
        bad = next((node for node in order if not math.isfinite(node.grad)), None)
        if bad is not None:
            name = bad.label or bad.op or "a node"
            raise OverflowError(
                f"backward: the gradient of {name} (data {bad.data:.6g}) overflows float64 ({bad.grad}); "
                "the function is too steep there"
            )

    def zero_grad(self):
        """Set ``grad`` to 0 on every node of this graph, intermediate nodes included."""
        for node in nodes(self):
            node.grad = 0.0


def _as_value(x):
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return Value(x, label=f"{x:g}")
    return NotImplemented


def nodes(root: Value) -> list[Value]:
    """Every node ``root`` depends on, each once, parents before children (``root`` last).

    A depth-first search with an explicit stack: an entry is visited twice, first to
    push its parents, then (``expanded``) to emit it once all of them are emitted.
    """
    if not isinstance(root, Value):
        raise TypeError(f"root: expected a Value, got {type(root).__name__}")
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        stack.extend((p, False) for p in node._parents if p not in seen)
    return order


def edges(root: Value) -> list[tuple[Value, Value]]:
    """Each ``(parent, child)`` pair of the graph once (``x * x`` gives one edge x → x*x)."""
    out, seen = [], set()
    for child in nodes(root):
        for parent in child._parents:
            if (parent, child) not in seen:
                seen.add((parent, child))
                out.append((parent, child))
    return out
