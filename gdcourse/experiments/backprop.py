"""Computations behind notebook 04 (backpropagation and gradient flow) and its explorers.

Every function here is pure (random ones take ``rng``), so the notebook, the
explorers of :mod:`gdcourse.widgets.backprop` and ``tests/test_nb04_claims.py`` run
the same code.

Backpropagation is reverse-mode automatic differentiation (Linnainmaa, 1970;
Rumelhart, Hinton & Williams, 1986): one forward pass caches what each layer
needs, one backward pass applies the chain rule layer by layer in reverse. It
gives every parameter's gradient for a small constant times the cost of the
forward pass. Through ``L`` layers the gradient is multiplied by one Jacobian per
layer, ``diag(f'(z_l)) W_lᵀ``; when those factors shrink (sigmoid: ``f' ≤ 1/4``)
the product vanishes exponentially with depth, when they grow it explodes, and
a recurrent network multiplies by the same matrix at every time step.

Sections: the cost of gradients; a one-hidden-layer network by hand; computational
graphs; gradient norms across depth; exploding gradients in training; recurrent
networks; a hidden unit's error term; gradient checking.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass

import numpy as np

from gdcourse import gradcheck, graph, losses, nn, optim, train
from gdcourse import init as initializers
from gdcourse.functional import sigmoid
from gdcourse.nn.module import flat_buffers
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = [
    "mlp", "mlp_flops", "BackpropCost", "finite_difference_cost",
    "two_layer_forward", "two_layer_backward", "two_layer_params", "two_layer_as_module",
    "train_two_layer_by_hand", "train_two_layer_with_package",
    "parse_values", "GraphView", "graph_view",
    "ACTIVATIONS", "INITS", "deep_mlp", "GradientProfile", "depth_gradient_profile", "vanishing_depth",
    "DivergenceRun", "divergence_run",
    "RNNGradient", "rnn_gradient_vs_steps", "forget_gate_path", "clipping_effect",
    "SigmoidWithoutDerivative", "HIDDEN_ERROR_SCENARIOS", "hidden_error_terms",
    "difference_errors", "spot_check",
]


# ---------------------------------------------------------------- the cost of gradients

def _check_sizes(sizes):
    sizes = tuple(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes: expected at least (in, out), got {sizes!r}")
    for n in sizes:
        check_positive_int(n, "sizes entries")
    return sizes


def mlp(sizes, activation="tanh", init="xavier_normal", rng=None) -> nn.Sequential:
    """An MLP: ``Linear`` layers of the given ``sizes`` with ``activation`` between them (none at the end)."""
    sizes = _check_sizes(sizes)
    rng = as_rng(rng)
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(fan_in, fan_out, init=init, rng=rng))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def mlp_flops(sizes, batch) -> tuple[int, int]:
    """Floating-point operations of the matrix products of an MLP: ``(forward, backward)``.

    A ``(N, a) @ (a, b)`` product costs ``2Nab`` (one multiply and one add per term).
    Forward: ``x W`` per layer. Backward: ``dW = xᵀ dy`` per layer and ``dx = dy Wᵀ``
    for every layer but the first (nobody needs the gradient of the data), so the
    backward pass costs just under twice the forward pass. Biases and activations
    are O(N·width) and left out.
    """
    sizes = _check_sizes(sizes)
    batch = check_positive_int(batch, "batch")
    products = [2 * batch * a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    return sum(products), 2 * sum(products) - products[0]


@dataclass(frozen=True)
class BackpropCost:
    """Gradient of one loss by central differences vs by backpropagation.

    ``fd_forward_passes`` is counted (two per parameter); backprop takes one forward
    and one backward pass. Times are wall-clock seconds on this machine.
    """

    num_params: int
    fd_forward_passes: int
    fd_seconds: float
    backprop_seconds: float
    relative_error: float

    @property
    def speedup(self) -> float:
        return self.fd_seconds / self.backprop_seconds


def finite_difference_cost(sizes=(4, 16, 16, 1), batch=32, rng=0, eps=1e-6) -> BackpropCost:
    """Time and count the two ways of getting the gradient of an MSE loss of a tanh MLP.

    Central differences perturb each parameter up and down (``2P`` forward passes);
    backpropagation runs one forward and one backward pass. Both gradients are
    compared with :func:`gdcourse.gradcheck.relative_error`.
    """
    rng = as_rng(rng)
    model = mlp(sizes, rng=rng)
    X = rng.standard_normal((check_positive_int(batch, "batch"), sizes[0]))
    y = rng.standard_normal((batch, sizes[-1]))
    loss = losses.MSELoss()
    passes = 0

    def loss_value(_):
        nonlocal passes
        passes += 1
        return loss.forward(model.forward(X), y)

    start = time.perf_counter()
    model.zero_grad()
    loss.forward(model.forward(X), y)
    model.backward(loss.backward(), input_grad=False)
    backprop_seconds = time.perf_counter() - start
    values, grads = flat_buffers(model.parameters())
    analytic = grads.copy()

    start = time.perf_counter()
    numeric = gradcheck.numerical_gradient(loss_value, values, eps)
    fd_seconds = time.perf_counter() - start
    return BackpropCost(values.size, passes, fd_seconds, backprop_seconds,
                        gradcheck.relative_error(analytic, numeric))


# ---------------------------------------------------------------- a one-hidden-layer network by hand

def _check_two_layer(x, W1, b1, W2, b2):
    x = check_array(x, "x", ndim=2)
    W1, W2 = check_array(W1, "W1", ndim=2), check_array(W2, "W2", ndim=2)
    b1, b2 = check_array(b1, "b1", ndim=1), check_array(b2, "b2", ndim=1)
    d, hidden, out = x.shape[1], W1.shape[1], W2.shape[1]
    for name, got, want in (("W1", W1.shape, (d, hidden)), ("b1", b1.shape, (hidden,)),
                            ("W2", W2.shape, (hidden, out)), ("b2", b2.shape, (out,))):
        if got != want:
            raise ValueError(f"{name}: expected shape {want} to match x {x.shape} (N, D), W1 (D, H) and "
                             f"W2 (H, C), got {got}")
    return x, W1, b1, W2, b2


def two_layer_forward(x, W1, b1, W2, b2):
    """``h = σ(x W1 + b1)``, ``out = h W2 + b2``; returns ``(out, h)``.

    Shapes: ``x (N, D)``, ``W1 (D, H)``, ``b1 (H,)``, ``W2 (H, C)``, ``b2 (C,)``,
    ``h (N, H)``, ``out (N, C)``.
    """
    x, W1, b1, W2, b2 = _check_two_layer(x, W1, b1, W2, b2)
    h = sigmoid(x @ W1 + b1)
    return h @ W2 + b2, h


def two_layer_backward(x, W1, b1, W2, b2, dout):
    """Every gradient of the network of :func:`two_layer_forward`, given ``dout = dL/dout (N, C)``.

    The chain rule, one step at a time (σ' = h(1 − h))::

        dW2 = hᵀ dout  (H, C)      db2 = Σ_n dout  (C,)      dh = dout W2ᵀ  (N, H)
        dz1 = dh ⊙ h(1 − h)  (N, H)
        dW1 = xᵀ dz1  (D, H)       db1 = Σ_n dz1  (H,)       dx = dz1 W1ᵀ  (N, D)

    Returns ``(dx, dW1, db1, dW2, db2)``.
    """
    out, h = two_layer_forward(x, W1, b1, W2, b2)
    dout = check_array(dout, "dout", ndim=2)
    if dout.shape != out.shape:
        raise ValueError(f"dout: expected the output's shape {out.shape}, got {dout.shape}")
    dW2, db2 = h.T @ dout, dout.sum(axis=0)
    dz1 = (dout @ W2.T) * h * (1 - h)
    return dz1 @ W1.T, x.T @ dz1, dz1.sum(axis=0), dW2, db2


def two_layer_params(d_in, hidden, d_out, rng=None, scale=1.0) -> dict:
    """``{"W1", "b1", "W2", "b2"}``: Xavier-normal weights (times ``scale``), zero biases."""
    rng = as_rng(rng)
    return {"W1": scale * initializers.xavier_normal((d_in, hidden), rng),
            "b1": np.zeros(hidden),
            "W2": scale * initializers.xavier_normal((hidden, d_out), rng),
            "b2": np.zeros(d_out)}


def two_layer_as_module(params) -> nn.Sequential:
    """The same network as a package model: ``Linear → Sigmoid → Linear`` holding copies of ``params``."""
    W1, W2 = np.asarray(params["W1"], dtype=np.float64), np.asarray(params["W2"], dtype=np.float64)
    first, second = nn.Linear(*W1.shape), nn.Linear(*W2.shape)
    first.weight.value, first.bias.value = W1, params["b1"]
    second.weight.value, second.bias.value = W2, params["b2"]
    return nn.Sequential(first, nn.Sigmoid(), second)


def _bce_targets(X, y, params):
    X = check_array(X, "X", ndim=2, finite=True)
    y = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
    _check_two_layer(X, params["W1"], params["b1"], params["W2"], params["b2"])
    return X, y


def train_two_layer_by_hand(X, y, params, lr, steps):
    """Full-batch gradient descent on binary cross-entropy, written out: forward, loss, backward, update.

    ``dL/dout = (σ(out) − y) / N`` (sigmoid output with cross-entropy), then
    :func:`two_layer_backward` and ``θ ← θ − lr · dθ`` for all four arrays.
    Returns ``(losses (steps,), final params)``; ``params`` is not modified.
    """
    X, y = _bce_targets(X, y, params)
    lr, steps = check_positive(lr, "lr"), check_positive_int(steps, "steps")
    p = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    history = []
    for _ in range(steps):
        out, _ = two_layer_forward(X, p["W1"], p["b1"], p["W2"], p["b2"])
        value, dout = _bce(out, y)
        history.append(value)
        _, dW1, db1, dW2, db2 = two_layer_backward(X, p["W1"], p["b1"], p["W2"], p["b2"], dout)
        for name, grad in (("W1", dW1), ("b1", db1), ("W2", dW2), ("b2", db2)):
            p[name] -= lr * grad
    return np.array(history), p


def _bce(logits, y):
    """Mean binary cross-entropy on logits and its gradient ``(σ(z) − y) / n``."""
    value = np.mean(np.logaddexp(0.0, logits) - y * logits)
    return float(value), (sigmoid(logits) - y) / logits.size


def train_two_layer_with_package(X, y, params, lr, steps):
    """The same training with the package: ``zero_grad → forward → loss → backward → SGD step``."""
    X, y = _bce_targets(X, y, params)
    model = two_layer_as_module(params)
    loss = losses.BCEWithLogitsLoss()
    optimizer = optim.SGD(model.parameters(), lr=check_positive(lr, "lr"))
    history = []
    for _ in range(check_positive_int(steps, "steps")):
        optimizer.zero_grad()
        history.append(loss.forward(model.forward(X), y))
        model.backward(loss.backward(), input_grad=False)
        optimizer.step()
    return np.array(history), model


# ---------------------------------------------------------------- computational graphs

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


# ---------------------------------------------------------------- gradient norms across depth

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU,
               "elu": nn.ELU, "gelu": nn.GELU, "linear": nn.Identity}
"""Activation name → layer class, for :func:`deep_mlp` and the depth explorer."""

INITS = {"xavier": "xavier_normal", "he": "he_normal", "lecun": "lecun_normal",
         "small normal": functools.partial(initializers.normal, std=0.01),
         "unit normal": functools.partial(initializers.normal, std=1.0)}
"""Initialization name → initializer: Var(W) = 2/(n_in + n_out), 2/n_in, 1/n_in, 0.01², 1."""


def _choice(value, options, name):
    if value not in options:
        raise ValueError(f"{name}: expected one of {list(options)}, got {value!r}")
    return options[value]


def _block(activation, init, width, norm, residual, rng):
    layers = [nn.Linear(width, width, init=_choice(init, INITS, "init"), rng=rng)]
    if norm is not None:
        layers.append(_choice(norm, {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}, "norm")(width))
    act = _choice(activation, ACTIVATIONS, "activation")()
    block = nn.Sequential(*layers, act)
    return (nn.Residual(block) if residual else block), act


def deep_mlp(activation, init, depth, width=64, rng=None, norm=None, residual=False):
    """``depth`` hidden blocks ``Linear(width, width) [→ norm] → activation``, then ``Linear(width, 1)``.

    With ``residual=True`` each block is wrapped in :class:`gdcourse.nn.Residual`
    (``x + block(x)``). ``norm`` is None, ``"batch"`` or ``"layer"``. The output
    layer always uses Xavier initialization. Returns ``(model, activation layers)``.
    """
    depth, width = check_positive_int(depth, "depth"), check_positive_int(width, "width")
    output_rng, rng = as_rng(rng).spawn(2)  # the output layer is the same whatever the depth
    blocks, acts = [], []
    for _ in range(depth):
        block, act = _block(activation, init, width, norm, residual, rng)
        blocks.append(block)
        acts.append(act)
    return nn.Sequential(*blocks, nn.Linear(width, 1, init="xavier_normal", rng=output_rng)), acts


@dataclass(frozen=True)
class GradientProfile:
    """Gradient norms of a deep MLP on one batch (layer 1 is the first, the output layer last).

    ``weight_norms (depth + 1,)``: ‖dL/dW‖ of each layer (from
    :func:`gdcourse.diagnostics.gradient_norms`); ``signal_norms (depth + 1,)``:
    ‖dL/d(input of layer l)‖, the gradient that reaches each layer;
    ``mean_derivative (depth,)``: mean of f'(z) over each hidden layer's units and samples.
    """

    activation: str
    init: str
    depth: int
    weight_norms: np.ndarray
    signal_norms: np.ndarray
    mean_derivative: np.ndarray
    norm: str | None = None
    residual: bool = False

    @property
    def name(self) -> str:
        """``"sigmoid, xavier init"`` plus ``" + batch norm"`` / ``" + residual"`` when used."""
        extras = (f" + {self.norm} norm" if self.norm else "") + (" + residual" if self.residual else "")
        return f"{self.activation}, {self.init} init{extras}"

    @property
    def ratio(self) -> float:
        """First layer's weight-gradient norm over the last (output) layer's."""
        return float(self.weight_norms[0] / self.weight_norms[-1])


def depth_gradient_profile(activation="sigmoid", init="xavier", depth=10, width=64, rng=0, norm=None,
                           residual=False, batch=64) -> GradientProfile:
    """Per-layer gradient norms of :func:`deep_mlp` on a random regression batch (MSE loss).

    The data ``X (batch, width)``, ``y (batch, 1)`` (standard normal) and the weights
    come from two independent streams spawned from ``rng``, so the same seed gives
    the same data at every depth and the same first layers.
    """
    from gdcourse.diagnostics import gradient_norms

    data_rng, model_rng = as_rng(rng).spawn(2)
    X = data_rng.standard_normal((check_positive_int(batch, "batch"), width))
    y = data_rng.standard_normal((batch, 1))
    model, acts = deep_mlp(activation, init, depth, width, model_rng, norm, residual)
    loss = losses.MSELoss()
    with np.errstate(over="ignore", invalid="ignore"):
        weight_norms = np.array([n for _, _, n in gradient_norms(model, loss, X, y)])
        signal = _signal_norms(model, loss, X, y)
        derivative = np.array([a.backward(np.ones((batch, width))).mean() for a in acts])
    return GradientProfile(activation, str(init), depth, weight_norms, signal, derivative, norm,
                           bool(residual))


def _signal_norms(model, loss, X, y):
    """‖dL/d(input of each top-level layer)‖, by walking the backward pass by hand."""
    loss.forward(model.forward(X), y)
    dy, norms = loss.backward(), []
    for layer in reversed(list(model)):
        dy = layer.backward(dy)
        norms.append(float(np.linalg.norm(dy)))
    model.zero_grad()
    return np.array(norms[::-1])


def vanishing_depth(activation="sigmoid", init="xavier", threshold=1e-6, width=64, rng=0, max_depth=50,
                    **options) -> int | None:
    """The smallest depth at which the first layer's gradient norm is below ``threshold`` times the last's.

    Each depth 1, 2, … builds a fresh :func:`deep_mlp` with the same ``rng`` (what
    the depth explorer shows); None if no depth up to ``max_depth`` gets there.
    """
    check_positive(threshold, "threshold")
    for depth in range(1, check_positive_int(max_depth, "max_depth") + 1):
        if depth_gradient_profile(activation, init, depth, width, rng, **options).ratio < threshold:
            return depth
    return None


# ---------------------------------------------------------------- exploding gradients in training

@dataclass(frozen=True)
class DivergenceRun:
    """A training run of :func:`divergence_run`: per-step losses and global gradient norms (before clipping).

    ``diverged_at`` is the step whose loss was NaN/inf (None if training finished)
    and ``message`` the :class:`gdcourse.train.TrainingDiverged` text.
    """

    losses: np.ndarray
    grad_norms: np.ndarray
    diverged_at: int | None
    message: str

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


def divergence_run(lr, clip_norm=None, init="he", depth=6, width=32, epochs=20, rng=0) -> DivergenceRun:
    """Train a deep ReLU MLP with SGD on a smooth regression task and record what happens.

    Data: ``y = sin(x₀) + x₁x₂/2`` for 256 standard-normal inputs of 8 features,
    mini-batches of 32. A learning rate that is too high makes the gradient norm grow
    step after step until the loss overflows and :func:`gdcourse.train.fit` raises
    ``TrainingDiverged``; ``clip_norm`` caps each step's global gradient norm.
    """
    rng = as_rng(rng)
    X = rng.standard_normal((256, 8))
    y = (np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2])[:, None]
    model = nn.Sequential(*(layer for block in [
        [nn.Linear(8 if i == 0 else width, width, init=_choice(init, INITS, "init"), rng=rng), nn.ReLU()]
        for i in range(check_positive_int(depth, "depth"))] for layer in block),
        nn.Linear(width, 1, init="xavier_normal", rng=rng))
    optimizer = optim.SGD(model.parameters(), lr=check_positive(lr, "lr"))
    with np.errstate(all="ignore"):
        try:
            history = train.fit(model, losses.MSELoss(), optimizer, (X, y), epochs=epochs, batch_size=32,
                                clip_norm=clip_norm, progress=False, rng=rng)
            step, message = None, ""
        except train.TrainingDiverged as err:
            history, step, message = err.history, len(err.history.step_loss), str(err)
    return DivergenceRun(np.array(history.step_loss), np.array(history.step_grad_norm), step, message)


# ---------------------------------------------------------------- recurrent networks

@dataclass(frozen=True)
class RNNGradient:
    """How far back the gradient of the last output reaches in a tanh RNN.

    ``norms[k]`` = ‖dL/dx_{T−k}‖ (over the batch), the gradient at the input ``k``
    steps before the last; ``bound[k] = scale^k · norms[0]``, the most it can be
    (every singular value of ``W_hh`` is ``scale`` and tanh' ≤ 1).
    """

    scale: float
    bptt_steps: int | None
    norms: np.ndarray
    bound: np.ndarray


def _orthogonal(n, rng):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))  # a uniformly random orthogonal matrix (Mezzadri, 2007)


def rnn_gradient_vs_steps(scale=1.0, steps=50, hidden=32, rng=0, bptt_steps=None, input_scale=0.1,
                          batch=16) -> RNNGradient:
    """Backpropagate a random gradient of the last hidden state of an :class:`gdcourse.nn.RNN`.

    ``W_hh = scale · Q`` with ``Q`` a random orthogonal matrix, so every singular
    value (and the spectral radius) of ``W_hh`` is exactly ``scale``; ``W_xh = I``,
    so the gradient at input ``x_s`` is the gradient at pre-activation ``s``.
    Inputs are ``input_scale ·`` standard normal. ``bptt_steps=k`` truncates
    backpropagation through time to ``k`` steps.
    """
    scale = check_positive(scale, "scale")
    steps, hidden = check_positive_int(steps, "steps"), check_positive_int(hidden, "hidden")
    rng = as_rng(rng)
    rnn = nn.RNN(hidden, hidden, bptt_steps=bptt_steps, rng=rng)
    rnn.W_hh.value = scale * _orthogonal(hidden, rng)
    rnn.W_xh.value = np.eye(hidden)
    x = check_positive(input_scale, "input_scale") * rng.standard_normal((batch, steps, hidden))
    h = rnn(x)
    dh = np.zeros_like(h)
    dh[:, -1] = rng.standard_normal((batch, hidden))
    dx = rnn.backward(dh)
    norms = np.linalg.norm(dx, axis=(0, 2))[::-1].copy()
    return RNNGradient(scale, bptt_steps, norms, norms[0] * scale ** np.arange(steps))


def forget_gate_path(forget_bias, steps=50, hidden=32, rng=0, noise=1.0) -> np.ndarray:
    """Gain of an LSTM's cell-state path over ``k`` steps: mean over units of ``Π_{t} f_t``.

    Along ``c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t`` the direct derivative is ``diag(f_t)``,
    so ``k`` steps multiply the gradient by the product of the forget gates, with no
    weight matrix and no tanh'. Here ``f_t = σ(forget_bias + noise · ε)``, ε standard
    normal per unit and step. Returns shape ``(steps + 1,)``, starting at 1.
    """
    rng = as_rng(rng)
    gates = sigmoid(forget_bias + noise * rng.standard_normal((check_positive_int(steps, "steps"),
                                                               check_positive_int(hidden, "hidden"))))
    return np.concatenate([[1.0], np.cumprod(gates, axis=0).mean(axis=1)])


def clipping_effect(scale, max_norm=1.0, steps=50, hidden=32, rng=0) -> tuple[float, float, float, float]:
    """Clip the parameter gradient of :func:`rnn_gradient_vs_steps`' RNN by global norm.

    Returns ``(norm before, norm after, ‖dL/dx_1‖ before, ‖dL/dx_1‖ after)``: the
    global parameter-gradient norm, and the gradient at the first input (the oldest
    step) scaled by the same factor clipping applied. Clipping multiplies every
    gradient by ``min(1, max_norm/‖g‖)``, so neither can grow.
    """
    from gdcourse.regularization import clip_grad_norm, global_grad_norm

    rng = as_rng(rng)
    rnn = nn.RNN(hidden, hidden, rng=rng)
    rnn.W_hh.value = check_positive(scale, "scale") * _orthogonal(hidden, rng)
    rnn.W_xh.value = np.eye(hidden)
    h = rnn(0.1 * rng.standard_normal((16, check_positive_int(steps, "steps"), hidden)))
    dh = np.zeros_like(h)
    dh[:, -1] = rng.standard_normal((16, hidden))
    oldest = float(np.linalg.norm(rnn.backward(dh)[:, 0]))
    before = clip_grad_norm(rnn.parameters(), max_norm)
    after = global_grad_norm(rnn.parameters())
    return before, after, oldest, oldest * after / before


# ---------------------------------------------------------------- a hidden unit's error term

class SigmoidWithoutDerivative(nn.Sigmoid):
    """A deliberately wrong sigmoid layer: its backward forgets the factor σ'(z) (returns ``dy``)."""

    def backward(self, dy, input_grad=True):
        self._saved()
        return dy


HIDDEN_ERROR_SCENARIOS = ("baseline", "large outgoing weights", "saturated unit", "bug: no σ' in backward")
"""The situations :func:`hidden_error_terms` compares."""


def hidden_error_terms(scenario="baseline", unit=2, rng=0, hidden=8, batch=128) -> np.ndarray:
    """Mean |δ_j| = mean |dL/dz_j| of each hidden unit of a ``8 → hidden → 1`` sigmoid network (MSE).

    ``δ_j = σ'(z_j) Σ_k W2[j, k] δ_k``. Scenarios (see :data:`HIDDEN_ERROR_SCENARIOS`),
    applied to hidden unit ``unit``: its outgoing weights ×10; its bias +10
    (saturated, σ' ≈ 5e-5); or a backward pass that forgets σ' for every unit.
    """
    if scenario not in HIDDEN_ERROR_SCENARIOS:
        raise ValueError(f"scenario: expected one of {list(HIDDEN_ERROR_SCENARIOS)}, got {scenario!r}")
    rng = as_rng(rng)
    X = rng.standard_normal((batch, 8))
    y = np.sin(X[:, :1]) + 0.5 * rng.standard_normal((batch, 1))
    params = two_layer_params(8, hidden, 1, rng)
    if scenario == "large outgoing weights":
        params["W2"][unit] *= 10.0
    elif scenario == "saturated unit":
        params["b1"][unit] += 10.0
    out, h = two_layer_forward(X, **params)
    dout = 2.0 * (out - y) / batch
    dh = dout @ params["W2"].T
    delta = dh if scenario.startswith("bug") else dh * h * (1 - h)
    return np.abs(delta).mean(axis=0)


# ---------------------------------------------------------------- gradient checking

def difference_errors(hs, dtype="float64", kind="central", rng=0) -> np.ndarray:
    """Relative error ``‖n − a‖ / (‖n‖ + ‖a‖)`` of a finite-difference gradient ``n``, one per step ``h``.

    The function is the binary cross-entropy of a ``3 → 4 → 1`` sigmoid network,
    differentiated with respect to ``W1``; the loss is evaluated in ``dtype``
    (``"float64"`` or ``"float32"``) and compared with the exact float64 backprop
    gradient ``a``. ``kind`` is ``"central"`` ((f(w + h) − f(w − h)) / 2h, error O(h²))
    or ``"forward"`` ((f(w + h) − f(w)) / h, error O(h)). The divisor is the step
    actually taken after rounding ``w ± h`` to ``dtype``; where that step is 0 (h
    below the spacing of the numbers) the entry is NaN.
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype: expected 'float32' or 'float64', got {dtype}")
    if kind not in ("central", "forward"):
        raise ValueError(f"kind: expected 'central' or 'forward', got {kind!r}")
    rng = as_rng(rng)
    X, y = rng.standard_normal((16, 3)), (rng.random((16, 1)) < 0.5).astype(float)
    p = two_layer_params(3, 4, 1, rng, scale=2.0)
    out, _ = two_layer_forward(X, **p)
    exact = two_layer_backward(X, p["W1"], p["b1"], p["W2"], p["b2"], _bce(out, y)[1])[1]
    low = {k: v.astype(dtype) for k, v in p.items()}
    Xl, yl = X.astype(dtype), y.astype(dtype)

    def f(W1):
        out, _ = two_layer_forward(Xl, W1, low["b1"], low["W2"], low["b2"])
        return np.float64(np.mean(np.logaddexp(dtype.type(0), out) - yl * out))

    errors = []
    for h in np.asarray(hs, dtype=np.float64):
        numeric = np.empty_like(exact)
        for i in np.ndindex(exact.shape):
            up, down = low["W1"].copy(), low["W1"].copy()
            up[i] += dtype.type(h)
            if kind == "central":
                down[i] -= dtype.type(h)
            step = np.float64(up[i]) - np.float64(down[i])
            numeric[i] = (f(up) - f(down)) / step if step > 0 else np.nan
        errors.append(np.linalg.norm(numeric - exact) / (np.linalg.norm(numeric) + np.linalg.norm(exact)))
    return np.array(errors)


def spot_check(model, loss, X, y, num_coords=20, rng=0, eps=1e-6) -> float:
    """Worst relative error of backprop against central differences on ``num_coords`` random parameters.

    For a big network the full check costs two forward passes per parameter; a
    random subset of coordinates costs ``2 · num_coords`` and still catches a wrong
    layer with high probability. ``model`` must be a float64 ``Sequential``.
    """
    X = check_array(X, "X", finite=True)
    model.zero_grad()
    loss.forward(model.forward(X), y)
    model.backward(loss.backward(), input_grad=False)
    values, grads = flat_buffers(model.parameters())
    num_coords = min(check_positive_int(num_coords, "num_coords"), values.size)
    picked = as_rng(rng).choice(values.size, size=num_coords, replace=False)
    numeric = np.empty(num_coords)
    for j, i in enumerate(picked):
        original = values[i]
        values[i] = original + eps
        plus = loss.forward(model.forward(X), y)
        values[i] = original - eps
        minus = loss.forward(model.forward(X), y)
        values[i] = original
        numeric[j] = (plus - minus) / (2 * eps)
    return gradcheck.relative_error(grads[picked], numeric)
