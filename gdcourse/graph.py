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
"""

from __future__ import annotations

import ast
import math
import numbers

__all__ = ["Value", "nodes", "edges", "draw", "parse", "FUNCTIONS"]


class Value:
    """One scalar node of a computational graph.

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
        self.data = float(data)
        self.grad = 0.0
        self.label = str(label)
        self.op = _op
        self._parents = tuple(_parents)
        self._backward = _backward  # grad of this node -> adds into the parents' grads

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

        def backward(g):  # d(a/b)/da = 1/b, d(a/b)/db = −a/b²
            self.grad += g / other.data
            other.grad -= g * self.data / (other.data * other.data)

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

        return Value(self.data**k, _parents=(self,), _op=f"**{exponent:g}", _backward=backward)

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
        """``e^x``; derivative ``e^x``."""
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


def _layers(root):
    """Depth of each node: 0 for inputs, else one more than its deepest parent."""
    depth = {}
    for node in nodes(root):
        depth[node] = 1 + max((depth[p] for p in node._parents), default=-1)
    return depth


def _layout(root):
    """``{node: (x, y)}``: column = depth; within a column, nodes sorted by the mean height of
    their parents (the barycentre heuristic of layered drawing), which keeps most edges short."""
    columns = {}
    for node, d in _layers(root).items():
        columns.setdefault(d, []).append(node)
    position = {}
    for d in sorted(columns):
        column = columns[d]
        if d > 0:
            column.sort(key=lambda n: -sum(position[p][1] for p in n._parents) / len(n._parents))
        for row, node in enumerate(column):
            position[node] = (2.0 * d, (len(column) - 1) / 2.0 - row)
    return position


def _node_text(node):
    head = node.op if node.op else (node.label or "input")
    if node.op and node.label:
        head = f"{node.label} = {node.op}"
    return f"{head}\ndata {node.data:.4g}\ngrad {node.grad:.4g}"


def draw(root: Value, ax=None, max_nodes: int = 200):
    """Draw the graph of ``root`` with matplotlib, inputs on the left, ``root`` on the right.

    Nodes sit in columns by depth (longest path from an input); each is one text
    box with its label or operation, its data and its grad; each edge is an arrow
    from parent to child. Returns the ``matplotlib.axes.Axes`` (one text per node,
    one arrow patch per edge).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    position = _layout(root)
    if len(position) > max_nodes:
        raise ValueError(
            f"draw: the graph has {len(position)} nodes, more than max_nodes={max_nodes} can show readably; "
            "draw a smaller expression or raise max_nodes"
        )
    columns = {}
    for x, _ in position.values():
        columns[x] = columns.get(x, 0) + 1
    if ax is None:
        width = max(4.0, 2.2 * len(columns))
        height = max(3.0, 1.3 * max(columns.values()))
        _, ax = plt.subplots(figsize=(width, height))
    for parent, child in edges(root):
        arrow = FancyArrowPatch(position[parent], position[child], arrowstyle="-|>", mutation_scale=12,
                                shrinkA=28, shrinkB=28, color="0.4")
        ax.add_patch(arrow)
    for node, (x, y) in position.items():
        colour = "#cfe3ff" if not node._parents else ("#ffe2b8" if node is root else "white")
        ax.text(x, y, _node_text(node), ha="center", va="center", fontsize=8, family="monospace",
                bbox={"boxstyle": "round", "facecolor": colour, "edgecolor": "0.3"})
    xs = [p[0] for p in position.values()]
    ys = [p[1] for p in position.values()]
    ax.set_xlim(min(xs) - 1, max(xs) + 1)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_axis_off()
    return ax


# --- building a graph from text ------------------------------------------------------

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
    leaves = {name: v if isinstance(v, Value) else Value(v, label=name) for name, v in values.items()}
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as err:
        raise ValueError(f"expression: not a valid expression ({err.msg}): {expression!r}") from None
    return _evaluate(tree.body, expression, leaves)


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
