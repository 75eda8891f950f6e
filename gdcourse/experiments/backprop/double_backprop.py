"""Double backprop on the scalar graph: the gradient as a graph of its own, so it can be differentiated again.

:meth:`gdcourse.graph.Value.backward` stores gradients as plain floats, which ends the chain rule there.
:func:`gradient_graph` runs the same reverse sweep but builds every adjoint ``∂out/∂node`` out of
:class:`~gdcourse.graph.Value` operations on the forward nodes, so the result is a differentiable expression.
Backpropagating ``Σᵢ (∂out/∂xᵢ) vᵢ`` once more then gives the Hessian-vector product exactly,
``H v = ∇ₓ(∇ₓ out · v)`` (Pearlmutter, 1994, "Fast exact multiplication by the Hessian"), at a constant
multiple of the cost of one gradient; :func:`hessian_vector_product_exact` does that.

Local derivatives, written with the forward nodes (``a``, ``b`` the parents, ``y`` the node, ``ḡ`` its adjoint):
``+``: ḡ, ḡ · ``-``: ḡ, −ḡ · ``*``: ḡb, ḡa · ``/``: ḡ/b, −ḡa/b² · ``**k``: ḡ k a^(k−1) · ``exp``: ḡy ·
``log``: ḡ/a · ``tanh``: ḡ(1 − y²) · ``sigmoid``: ḡ y(1 − y) · ``relu``: ḡ·[a > 0] (second derivative 0).
"""

from __future__ import annotations

import math

from gdcourse.graph import Value, nodes

__all__ = ["gradient_graph", "hessian_vector_product_exact"]


def _power(node: Value) -> float:
    """The constant exponent of a ``**k`` node, read from its label and checked against its data."""
    (a,) = node.parents
    k = float(node.op[2:])
    if not math.isclose(a.data**k, node.data, rel_tol=1e-12, abs_tol=1e-300):
        raise ValueError(f"gradient_graph: the exponent of {node.op!r} is not exactly {k:g} (labels keep 6 digits)")
    return k


def _local(node: Value, g: Value) -> list[Value]:
    """The adjoint contributions ``g · ∂node/∂parent`` for each parent, as Value expressions."""
    op, parents = node.op, node.parents
    if op == "+":
        return [g, g]
    if op == "-":
        return [g, -g]
    if op == "*":
        a, b = parents
        return [g * b, g * a]
    if op == "/":
        a, b = parents
        return [g / b, -(g * a) / (b * b)]
    if op.startswith("**"):
        k, (a,) = _power(node), parents
        return [g * k] if k == 1 else [g * k * a ** (k - 1)]
    if op == "neg":
        return [-g]
    if op == "exp":
        return [g * node]
    if op == "log":
        return [g / parents[0]]
    if op == "tanh":
        return [g * (1 - node * node)]
    if op == "sigmoid":
        return [g * node * (1 - node)]
    if op == "relu":
        return [g * (1.0 if parents[0].data > 0 else 0.0)]
    raise ValueError(f"gradient_graph: no derivative rule for the operation {op!r}")


def gradient_graph(output: Value, inputs) -> list[Value]:
    """``[∂output/∂x for x in inputs]``, each a :class:`Value` built from the forward graph (0 if unused)."""
    if not isinstance(output, Value):
        raise TypeError(f"output: expected a Value, got {type(output).__name__}")
    adjoint = {id(output): Value(1.0)}
    for node in reversed(nodes(output)):
        g = adjoint.get(id(node))
        if g is None or not node.parents:
            continue
        for parent, contribution in zip(node.parents, _local(node, g), strict=True):
            key = id(parent)
            adjoint[key] = contribution if key not in adjoint else adjoint[key] + contribution
    return [adjoint.get(id(x), Value(0.0)) for x in inputs]


def hessian_vector_product_exact(f, x, v) -> list[float]:
    """``H v`` of the scalar function ``f`` (Values → Value) at the point ``x``, by double backprop.

    ``x``, ``v``: sequences of floats of one length. Builds ``f``, its gradient graph, the scalar
    ``Σ gᵢ vᵢ``, and backpropagates it: ``∂(∇f · v)/∂x = H v``.
    """
    x, v = [float(t) for t in x], [float(t) for t in v]
    if len(x) != len(v) or not x:
        raise ValueError(f"x, v: expected two non-empty sequences of one length, got {len(x)} and {len(v)}")
    inputs = [Value(t, f"x{i}") for i, t in enumerate(x)]
    grads = gradient_graph(f(inputs), inputs)
    directional = sum((g * vi for g, vi in zip(grads, v, strict=True)), Value(0.0))
    directional.backward()
    return [xi.grad for xi in inputs]
