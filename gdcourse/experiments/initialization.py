"""Computations behind notebook 08 (initialization) and its explorer.

Every function here is pure (random ones take ``rng``), so the notebook, the
explorer of :mod:`gdcourse.widgets.initialization` and ``tests/test_nb08_claims.py``
run the same code.

The one formula behind the whole notebook: for ``z = Σ_{i=1}^{n_in} w_i x_i`` with
independent, zero-mean weights of variance ``Var(w)``,

    Var(z) = n_in · Var(w) · E[x²]                       (forward)
    Var(∂L/∂x) = n_out · Var(w) · Var(∂L/∂z)             (backward)

so each layer multiplies the second moment of the signal by ``n_in Var(w) c_φ``,
where ``c_φ`` is the share of it the activation keeps (1/2 for ReLU, about 1 for
tanh near 0), and a deep network raises that factor to the power of its depth.
LeCun (1998) picks ``Var(w) = 1/n_in``, Glorot & Bengio (2010) ``2/(n_in + n_out)``,
He et al. (2015) ``2/n_in`` for ReLU; see :mod:`gdcourse.init`.

Sections: initialization schemes; networks and what flows through them; symmetry
(INIT-01); biases (INIT-02); forward and backward factors (INIT-03); depth
(INIT-04) and the explorer.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from gdcourse import diagnostics, losses, nn, optim, train
from gdcourse import init as initializers
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = [
    "SCHEMES", "EXPLORER_SCHEMES", "ACTIVATIONS", "SMALL_STD", "LARGE_STD", "CONSTANT_VALUE",
    "weight_variance", "initializer", "orthogonal",
    "make_mlp", "deep_mlp", "is_activation", "layer_activations", "activation_stds", "second_moments",
    "saturated_fraction", "unit_spread", "scale_sweep",
    "SymmetryRun", "symmetry_run",
    "prior_bias",
    "SignalFactors", "signal_factors", "jacobian_singular_values",
    "DepthProfile", "depth_profile", "default_hist_layers", "flat_gain", "InitReport", "init_report", "DeepRun",
    "train_deep",
    "EXPLORER_WIDTH", "EXPLORER_BATCH", "EXPLORER_SEED", "explore_init",
]

SMALL_STD = 0.01
"""Standard deviation of the "small normal" scheme, N(0, 0.01²): a common too-small choice."""
LARGE_STD = 1.0
"""Standard deviation of the "large normal" scheme, N(0, 1): seed 003's recommendation, too large."""
CONSTANT_VALUE = 0.1
"""Every weight of the "constant" scheme."""

SCHEMES = ("zeros", "constant", "small normal", "large normal", "lecun", "xavier", "he")
"""Weight initializations compared in the notebook (biases always start at 0)."""
EXPLORER_SCHEMES = ("zeros", "small normal", "large normal", "lecun", "xavier", "he")

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "linear": nn.Identity}
"""Activation name → layer class."""

_ACTIVATION_TYPES = (nn.Identity, nn.Step, nn.Sigmoid, nn.Tanh, nn.ReLU, nn.LeakyReLU, nn.PReLU, nn.ELU,
                     nn.GELU, nn.SiLU, nn.Softplus, nn.Softmax)


def _one_blas_thread(fn):
    """Run ``fn`` with NumPy's BLAS on one thread.

    These networks are small (widths up to 512, batches up to a few hundred): BLAS
    threads gain nothing there, and on a busy 2-core machine they wait on each other
    and made the notebook's experiments over ten times slower.
    """

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return run


# ---------------------------------------------------------------- initialization schemes

def _check_scheme(scheme, allowed=SCHEMES):
    if scheme not in allowed:
        raise ValueError(f"scheme: expected one of {list(allowed)}, got {scheme!r}")
    return scheme


def _check_gain(gain):
    return check_positive(gain, "gain")


def weight_variance(scheme, n_in, n_out, gain=1.0) -> float:
    """``Var(W)`` of a scheme for a weight of shape ``(n_in, n_out)``, times ``gain²``.

    zeros and constant: 0 (every entry equal); small normal: 0.01²; large normal: 1;
    lecun: ``1/n_in``; xavier: ``2/(n_in + n_out)``; he: ``2/n_in``.
    """
    _check_scheme(scheme)
    n_in, n_out = check_positive_int(n_in, "n_in"), check_positive_int(n_out, "n_out")
    gain = _check_gain(gain)
    base = {"zeros": 0.0, "constant": 0.0, "small normal": SMALL_STD**2, "large normal": LARGE_STD**2,
            "lecun": 1.0 / n_in, "xavier": 2.0 / (n_in + n_out), "he": 2.0 / n_in}[scheme]
    return gain**2 * base


def _base_initializer(scheme, value):
    return {
        "zeros": initializers.zeros,
        "constant": functools.partial(initializers.constant, value=value),
        "small normal": functools.partial(initializers.normal, std=SMALL_STD),
        "large normal": functools.partial(initializers.normal, std=LARGE_STD),
        "lecun": initializers.lecun_normal,
        "xavier": initializers.xavier_normal,
        "he": initializers.he_normal,
    }[scheme]


def initializer(scheme, gain=1.0, value=CONSTANT_VALUE):
    """The :mod:`gdcourse.init` function of a scheme, as ``f(shape, rng=None, dtype=float64)``.

    With ``gain != 1`` the weights are the scheme's weights multiplied by ``gain``
    (the same random draws, so changing the gain rescales one fixed network).
    ``value`` is the entry of the "constant" scheme.
    """
    _check_scheme(scheme)
    gain = _check_gain(gain)
    base = _base_initializer(scheme, float(value))
    if gain == 1.0:
        return base

    def scaled(shape, rng=None, dtype=np.float64):
        return (gain * base(shape, rng=rng, dtype=np.float64)).astype(dtype, copy=False)

    return scaled


@_one_blas_thread
def orthogonal(shape, rng=None, gain=1.0, dtype=np.float64):
    """A random (semi-)orthogonal matrix of ``shape (n_in, n_out)`` (Saxe, McClelland & Ganguli, 2014).

    The Q factor of the QR decomposition of a Gaussian matrix, with the signs of R's
    diagonal folded in so the result is uniformly distributed (Mezzadri, 2007).
    Orthonormal columns when ``n_in >= n_out``, orthonormal rows otherwise; every
    singular value is ``gain``.
    """
    n_in, n_out = initializers.fans(shape)
    gain = _check_gain(gain)
    a = as_rng(rng).standard_normal((max(n_in, n_out), min(n_in, n_out)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    q = q if n_in >= n_out else q.T
    return (gain * q).astype(dtype, copy=False)


# ---------------------------------------------------------------- networks and what flows through them

def _activation_class(activation):
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {list(ACTIVATIONS)}, got {activation!r}")
    return ACTIVATIONS[activation]


def make_mlp(widths, activation="tanh", scheme="xavier", gain=1.0, num_classes=None, rng=0) -> nn.Sequential:
    """``Linear(widths[0], widths[1]), act, …, Linear(widths[-2], widths[-1]), act`` [+ a linear head].

    Every weight (the head's too) comes from ``scheme`` (see :func:`initializer`);
    biases start at 0. With ``num_classes`` a final ``Linear(widths[-1], num_classes)``
    produces logits. One generator feeds every layer, so the layers differ.
    """
    widths = tuple(widths)
    if len(widths) < 2:
        raise ValueError(f"widths: expected at least 2 layer widths (input, hidden...), got {widths!r}")
    widths = tuple(check_positive_int(n, "widths") for n in widths)
    act = _activation_class(activation)
    fn = initializer(scheme, gain)
    rng = as_rng(rng)
    layers = []
    for n_in, n_out in zip(widths[:-1], widths[1:], strict=False):
        layers += [nn.Linear(n_in, n_out, init=fn, rng=rng), act()]
    if num_classes is not None:
        layers.append(nn.Linear(widths[-1], check_positive_int(num_classes, "num_classes"), init=fn, rng=rng))
    return nn.Sequential(*layers)


def deep_mlp(depth, width, activation="tanh", scheme="xavier", gain=1.0, in_features=None, num_classes=None,
             rng=0) -> nn.Sequential:
    """:func:`make_mlp` with ``depth`` hidden layers of ``width`` units (input ``in_features``, default ``width``)."""
    depth = check_positive_int(depth, "depth")
    width = check_positive_int(width, "width")
    first = width if in_features is None else check_positive_int(in_features, "in_features")
    return make_mlp((first,) + (width,) * depth, activation, scheme, gain, num_classes, rng)


def is_activation(layer) -> bool:
    """Whether ``layer`` is an activation layer (tanh, ReLU, sigmoid, identity, …), not a ``Linear``."""
    return isinstance(layer, _ACTIVATION_TYPES)


def _check_model(model):
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model: expected a gdcourse.nn.Sequential, got {type(model).__name__}")
    return model


def layer_activations(model, X) -> list:
    """The output of every activation layer of ``model`` on ``X (N, d)``, input to output: arrays ``(N, width_l)``."""
    _check_model(model)
    h = check_array(X, "X", ndim=2, finite=True)
    outputs = []
    for layer in model:
        h = layer.forward(h)
        if is_activation(layer):
            outputs.append(h)
    return outputs


def activation_stds(model, X) -> np.ndarray:
    """Standard deviation of each activation layer's output over the whole batch, shape ``(L,)``.

    ``std_l = np.std(h_l)`` over all ``N × width_l`` entries, where ``h_l`` is the
    output of the l-th activation layer (Linear outputs are not counted).
    """
    with np.errstate(over="ignore", under="ignore"):
        return np.array([float(np.std(h)) for h in layer_activations(model, X)])


def second_moments(model, X) -> np.ndarray:
    """``E[h_l²]`` of each activation layer's output over the whole batch, shape ``(L,)``.

    For ReLU this, not the variance, is what the next layer's variance depends on:
    ``Var(z_{l+1}) = n · Var(w) · E[h_l²]`` (He et al., 2015).
    """
    with np.errstate(over="ignore", under="ignore"):
        return np.array([float(np.mean(h * h)) for h in layer_activations(model, X)])


def saturated_fraction(h, activation, threshold=0.99) -> float:
    """Share of saturated outputs: ``|tanh| > threshold``, or a sigmoid within ``(1 − threshold)/2`` of 0 or 1.

    There the derivative is below ``1 − threshold²`` (tanh), so almost no gradient
    flows through the unit.
    """
    h = check_array(h, "h", float_only=False)
    if not 0 < threshold < 1:
        raise ValueError(f"threshold: expected a number in (0, 1), got {threshold!r}")
    if activation == "tanh":
        return float(np.mean(np.abs(h) > threshold))
    if activation == "sigmoid":
        return float(np.mean(np.abs(2.0 * h - 1.0) > threshold))
    raise ValueError(f"activation: saturation is defined for 'tanh' and 'sigmoid', got {activation!r}")


def unit_spread(M) -> float:
    """How different the units (columns) of ``M (n_in, units)`` are: ``max |M − M[:, :1]| / max |M|``.

    0 when every column equals the first (all units identical, or ``M`` all zero).
    """
    M = check_array(M, "M", ndim=2, finite=True)
    top = float(np.max(np.abs(M)))
    return 0.0 if top == 0 else float(np.max(np.abs(M - M[:, :1]))) / top


@_one_blas_thread
def scale_sweep(weight_stds, activation="relu", depth=50, width=512, batch=64, rng=0) -> dict:
    """Activation std per layer for several weight scales on the *same* random draws.

    One network of ``N(0, 1)`` weights (:func:`deep_mlp`, scheme "large normal") is
    drawn once; for each ``label → s`` of ``weight_stds`` every weight is multiplied
    by ``s`` (so only the scale differs between the runs) and :func:`activation_stds`
    is measured on the same inputs ``X ~ N(0, 1) (batch, width)``. Returns
    ``label → stds (depth,)``.
    """
    rng = as_rng(rng)
    X = rng.standard_normal((check_positive_int(batch, "batch"), check_positive_int(width, "width")))
    model = deep_mlp(depth, width, activation, "large normal", rng=rng)
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    draws = [layer.weight.value.copy() for layer in linears]
    stds = {}
    for label, s in weight_stds.items():
        s = check_positive(s, f"weight_stds[{label!r}]")
        for layer, W in zip(linears, draws, strict=True):
            layer.weight.value = s * W
        stds[label] = activation_stds(model, X)
    return stds


# ---------------------------------------------------------------- INIT-01: symmetry

@dataclass(frozen=True)
class SymmetryRun:
    """A one-hidden-layer network trained from one initialization.

    Per step (before its update): ``grad_norms (steps,)`` = ‖∂L/∂W₁‖ and
    ``grad_spreads (steps,)`` = :func:`unit_spread` of ∂L/∂W₁ (0: every hidden unit
    gets the same gradient). ``spreads (steps + 1,)``: :func:`unit_spread` of the
    hidden weights W₁ before each step and after the last. ``losses (steps,)``, the
    final ``hidden_weight (n_in, hidden)`` and ``test_accuracy``.
    """

    hidden_init: str
    output_init: str
    grad_norms: np.ndarray
    grad_spreads: np.ndarray
    spreads: np.ndarray
    losses: np.ndarray
    hidden_weight: np.ndarray
    test_accuracy: float

    @property
    def rank(self) -> int:
        """Numerical rank of the final hidden weights: 1 means every unit is the same."""
        return int(np.linalg.matrix_rank(self.hidden_weight))


@_one_blas_thread
def symmetry_run(hidden_init, output_init, data, hidden=32, steps=200, lr=0.5, activation="tanh",
                 rng=0) -> SymmetryRun:
    """Full-batch gradient descent on ``Linear → activation → Linear`` with softmax cross-entropy.

    ``hidden_init`` / ``output_init``: schemes of the two weight matrices (biases 0);
    ``data``: a :class:`gdcourse.data.Dataset` (train and test parts).
    """
    _check_scheme(hidden_init)
    _check_scheme(output_init)
    steps = check_positive_int(steps, "steps")
    lr = check_positive(lr, "lr")
    rng = as_rng(rng)
    first = nn.Linear(data.num_features, check_positive_int(hidden, "hidden"), init=initializer(hidden_init),
                      rng=rng)
    second = nn.Linear(hidden, data.num_classes, init=initializer(output_init), rng=rng)
    model = nn.Sequential(first, _activation_class(activation)(), second)
    loss, opt = losses.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr)
    spreads, values, grad_norms, grad_spreads = [unit_spread(first.weight.value)], [], [], []
    for _ in range(steps):
        model.zero_grad()
        values.append(loss.forward(model.forward(data.X_train), data.y_train))
        model.backward(loss.backward(), input_grad=False)
        grad_norms.append(float(np.linalg.norm(first.weight.grad)))
        grad_spreads.append(unit_spread(first.weight.grad))
        opt.step()
        spreads.append(unit_spread(first.weight.value))
    accuracy = train.accuracy(train.predict(model, data.X_test), data.y_test)
    return SymmetryRun(hidden_init, output_init, np.array(grad_norms), np.array(grad_spreads), np.array(spreads),
                       np.array(values), first.weight.value.copy(), accuracy)


# ---------------------------------------------------------------- INIT-02: biases

def prior_bias(positive_rate) -> float:
    """The output bias ``log(π / (1 − π))`` that makes a sigmoid output start at the base rate ``π``.

    The initial binary cross-entropy is then the label entropy instead of ``ln 2``
    (used for the focal-loss detector, Lin et al., 2017).
    """
    if isinstance(positive_rate, bool) or not isinstance(positive_rate, numbers.Real) \
            or not 0 < positive_rate < 1:
        raise ValueError(f"positive_rate: expected a number in (0, 1), got {positive_rate!r}")
    return math.log(positive_rate / (1.0 - positive_rate))


# ---------------------------------------------------------------- INIT-03: forward and backward factors

@dataclass(frozen=True)
class SignalFactors:
    """Per layer of a linear network: how much each layer multiplies the variance of the signal.

    ``forward (L,)``: ``Var(z_l) / Var(z_{l−1})`` measured (``z_0`` the input);
    ``backward (L,)``: ``Var(∂L/∂z_{l−1}) / Var(∂L/∂z_l)`` measured for a random
    upstream gradient; ``forward_formula = n_in Var(w)`` and ``backward_formula =
    n_out Var(w)`` from :func:`weight_variance`.
    """

    widths: tuple
    scheme: str
    forward: np.ndarray
    backward: np.ndarray
    forward_formula: np.ndarray
    backward_formula: np.ndarray


@_one_blas_thread
def signal_factors(widths, scheme, batch=2000, rng=0) -> SignalFactors:
    """Measure the forward and backward variance factors of every layer of a linear network.

    The network is :func:`make_mlp` with identity activations, so nothing but the
    weights changes the variance; inputs and the upstream gradient are ``N(0, 1)``.
    """
    rng = as_rng(rng)
    model = make_mlp(widths, "linear", scheme, rng=rng)
    batch = check_positive_int(batch, "batch")
    X = rng.standard_normal((batch, model[0].in_features))
    forward = [X.var()] + [h.var() for h in layer_activations(model, X)]
    dy = rng.standard_normal((batch, model[-2].out_features))
    backward = [dy.var()]
    for layer in reversed(model.layers):
        dy = layer.backward(dy)
        if isinstance(layer, nn.Linear):
            backward.append(dy.var())
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    variances = np.array([weight_variance(scheme, m.in_features, m.out_features) for m in linears])
    return SignalFactors(
        tuple(widths), scheme,
        forward=np.array(forward[1:]) / np.array(forward[:-1]),
        backward=(np.array(backward[1:]) / np.array(backward[:-1]))[::-1],
        forward_formula=np.array([m.in_features for m in linears]) * variances,
        backward_formula=np.array([m.out_features for m in linears]) * variances,
    )


@_one_blas_thread
def jacobian_singular_values(depth, width, kind="gaussian", rng=0) -> np.ndarray:
    """Singular values (descending) of the input-output Jacobian ``W_1 W_2 ⋯ W_depth`` of a linear network.

    ``kind="gaussian"``: LeCun's ``N(0, 1/width)``, which keeps the *average*
    squared singular value at 1 but spreads them out as depth grows;
    ``kind="orthogonal"``: :func:`orthogonal`, every singular value exactly 1
    (dynamical isometry, Saxe et al., 2014; Pennington et al., 2017).
    """
    depth, width = check_positive_int(depth, "depth"), check_positive_int(width, "width")
    makers = {"gaussian": initializers.lecun_normal, "orthogonal": orthogonal}
    if kind not in makers:
        raise ValueError(f"kind: expected one of {list(makers)}, got {kind!r}")
    rng = as_rng(rng)
    product = np.eye(width)
    for _ in range(depth):
        product = product @ makers[kind]((width, width), rng=rng)
    return np.linalg.svd(product, compute_uv=False)


# ---------------------------------------------------------------- INIT-04: depth

@dataclass(frozen=True)
class DepthProfile:
    """What one forward and backward pass at initialization shows, layer by layer (layer l = 1 … depth).

    ``stds``, ``second_moments``, ``saturated`` (share of saturated outputs for
    tanh/sigmoid, 0 otherwise): of each activation layer's output ``h_l``, shape
    ``(depth,)``. ``backward_stds (depth,)``: std of ``∂L/∂h_l``. ``grad_norms
    (depth + 1,)``: Frobenius norm of every ``Linear`` weight gradient, input to
    output (the last one is the head), as :func:`gdcourse.diagnostics.gradient_norms`
    reports them. ``loss``: the initial cross-entropy on random labels (``ln C`` is
    healthy). Histograms for ``hist_layers``: ``act_counts (k, bins)`` of ``h_l`` and
    ``grad_counts (k, bins)`` of ``∂L/∂h_l`` as fractions of entries, on the shared
    bin edges ``act_edges`` / ``grad_edges``.
    """

    scheme: str
    activation: str
    gain: float
    depth: int
    width: int
    stds: np.ndarray
    second_moments: np.ndarray
    saturated: np.ndarray
    backward_stds: np.ndarray
    grad_norms: np.ndarray
    loss: float
    hist_layers: tuple
    act_counts: np.ndarray
    act_edges: np.ndarray
    grad_counts: np.ndarray
    grad_edges: np.ndarray

    @property
    def layers(self) -> np.ndarray:
        """Layer numbers ``1 … depth``."""
        return np.arange(1, self.depth + 1)

    @property
    def moment_ratios(self) -> np.ndarray:
        """``E[h_l²] / E[h_{l−1}²]`` for l = 2 … depth: the per-layer factor of the second moment."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.second_moments[1:] / self.second_moments[:-1]


def default_hist_layers(depth) -> tuple:
    """About four layers spread over the depth: 1, ⅓, ⅔ and the last (without repeats)."""
    depth = check_positive_int(depth, "depth")
    return tuple(sorted({1, max(1, round(depth / 3)), max(1, round(2 * depth / 3)), depth}))


def _scaled_std(a):
    """``np.std`` that survives entries beyond 1e154 (whose squares would overflow)."""
    top = float(np.max(np.abs(a)))
    return 0.0 if top == 0 else top * float(np.std(a / top))


def _scaled_norm(a):
    top = float(np.max(np.abs(a)))
    return 0.0 if top == 0 else top * float(np.linalg.norm(a / top))


def _histograms(arrays, edges):
    counts = np.array([np.histogram(np.clip(a, edges[0], edges[-1]), bins=edges)[0] for a in arrays], dtype=float)
    return counts / np.array([a.size for a in arrays], dtype=float)[:, None]


def _activation_edges(activation, arrays, bins):
    if activation == "tanh":
        return np.linspace(-1.0, 1.0, bins + 1)
    if activation == "sigmoid":
        return np.linspace(0.0, 1.0, bins + 1)
    reach = max(float(np.percentile(np.abs(a), 99.5)) for a in arrays) or 1.0
    return np.linspace(0.0 if activation == "relu" else -reach, reach, bins + 1)


def _gradient_edges(arrays, bins):
    reach = max(float(np.percentile(np.abs(a), 99.5)) for a in arrays) or 1.0
    return np.linspace(-reach, reach, bins + 1)


def _forward_backward(model, X, y):
    """Activation outputs, ``∂L/∂h`` per activation layer, weight-gradient norms and the loss."""
    outputs, h = [], X
    for layer in model:
        h = layer.forward(h)
        if is_activation(layer):
            outputs.append(h)
    if not np.all(np.isfinite(h)):
        raise ValueError("the forward pass overflowed (the activations left the float64 range): "
                         "lower the gain or the depth")
    loss = losses.CrossEntropyLoss()
    value = loss.forward(h, y)
    model.zero_grad()
    dy, signals = loss.backward(), []
    for layer in reversed(model.layers):
        if is_activation(layer):
            signals.append(dy)
        dy = layer.backward(dy, input_grad=layer is not model[0])
    norms = [_scaled_norm(layer.weight.grad) for layer in model if isinstance(layer, nn.Linear)]
    return outputs, signals[::-1], np.array(norms), value


@_one_blas_thread
def depth_profile(scheme, activation, depth=30, width=256, gain=1.0, batch=128, num_classes=10, hist_layers=None,
                  bins=41, rng=0) -> DepthProfile:
    """One forward and backward pass at initialization through :func:`deep_mlp` with a softmax head.

    Inputs ``X ~ N(0, 1)`` of shape ``(batch, width)`` and random labels, drawn from
    ``rng`` before the weights. The same ``rng`` with another ``gain`` gives the same
    network rescaled (see :func:`initializer`).
    """
    _check_scheme(scheme)
    depth, width, batch = (check_positive_int(v, name) for v, name in
                           ((depth, "depth"), (width, "width"), (batch, "batch")))
    bins, num_classes = check_positive_int(bins, "bins"), check_positive_int(num_classes, "num_classes")
    hist_layers = default_hist_layers(depth) if hist_layers is None else tuple(hist_layers)
    if not hist_layers or any(not 1 <= int(layer) <= depth for layer in hist_layers):
        raise ValueError(f"hist_layers: expected layer numbers in 1..{depth}, got {hist_layers!r}")
    rng = as_rng(rng)
    X = rng.standard_normal((batch, width))
    y = rng.integers(0, num_classes, batch)
    model = deep_mlp(depth, width, activation, scheme, gain, num_classes=num_classes, rng=rng)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        outputs, signals, norms, value = _forward_backward(model, X, y)
        stds = np.array([_scaled_std(h) for h in outputs])
        moments = np.array([float(np.mean(h * h)) for h in outputs])
        picked_h = [outputs[layer - 1] for layer in hist_layers]
        picked_g = [signals[layer - 1] for layer in hist_layers]
        act_edges = _activation_edges(activation, picked_h, bins)
        grad_edges = _gradient_edges(picked_g, bins)
        saturated = np.array([saturated_fraction(h, activation) if activation in ("tanh", "sigmoid") else 0.0
                              for h in outputs])
        return DepthProfile(
            scheme, activation, float(gain), depth, width, stds, moments, saturated,
            np.array([_scaled_std(g) for g in signals]), norms, value, tuple(int(v) for v in hist_layers),
            _histograms(picked_h, act_edges), act_edges, _histograms(picked_g, grad_edges), grad_edges,
        )


def flat_gain(activation="relu", scheme="xavier", depth=30, **profile_kwargs) -> float:
    """The gain that makes the last layer's activation std equal the first's, for ReLU or linear layers.

    ReLU (and the identity) is positively homogeneous, ``relu(g z) = g relu(z)`` for
    ``g > 0``, so multiplying every weight by ``g`` multiplies layer l by ``g^l``; the
    answer is exactly ``(std_1 / std_depth)^(1/(depth − 1))`` at gain 1 for the
    :func:`depth_profile` of the same arguments. For ReLU with Xavier weights of
    square layers theory says ``√2`` (that is He's initialization).
    """
    if activation not in ("relu", "linear"):
        raise ValueError(f"activation: the gain is exact only for positively homogeneous activations "
                         f"('relu', 'linear'), got {activation!r}")
    depth = check_positive_int(depth, "depth")
    if depth < 2:
        raise ValueError(f"depth: expected at least 2 layers to compare the first and the last, got {depth}")
    stds = depth_profile(scheme, activation, depth, gain=1.0, **profile_kwargs).stds
    return float((stds[0] / stds[-1]) ** (1.0 / (depth - 1)))


@dataclass(frozen=True)
class InitReport:
    """What to look at before training (INIT-04b), from :mod:`gdcourse.diagnostics` on one batch.

    Per activation layer ``(L,)``: ``stds``, ``saturated`` (share of tanh/sigmoid
    outputs whose derivative is below 1 % of its maximum) and ``dead`` (share of
    ReLU units that output 0 for the whole batch). ``grad_norms (L + 1,)``: the
    weight-gradient norm of every ``Linear``, input to output. ``loss``: the initial
    cross-entropy (``ln C`` for ``C`` classes is healthy).
    """

    stds: np.ndarray
    saturated: np.ndarray
    dead: np.ndarray
    grad_norms: np.ndarray
    loss: float


@_one_blas_thread
def init_report(model, X, y) -> InitReport:
    """:func:`gdcourse.diagnostics.activation_stats` and ``gradient_norms`` of a classifier on ``X``, ``y``."""
    loss = losses.CrossEntropyLoss()
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        stats = diagnostics.activation_stats(model, X)
        norms = diagnostics.gradient_norms(model, loss, X, y)
        value = loss.forward(train.predict(model, X), y)
    return InitReport(np.array([s.std for s in stats]), np.array([s.saturated for s in stats]),
                      np.array([s.dead for s in stats]), np.array([norm for _, _, norm in norms]), float(value))


@dataclass(frozen=True)
class DeepRun:
    """A deep network trained on digits: ``initial_loss`` (before training; ``ln 10 ≈ 2.30`` is healthy),
    per-epoch ``train_loss`` and ``val_accuracy`` (shorter if it diverged), and ``diverged_at``
    (the optimizer step at which the loss became NaN/inf, else None)."""

    activation: str
    scheme: str
    initial_loss: float
    train_loss: np.ndarray
    val_accuracy: np.ndarray
    diverged_at: int | None

    def epochs_to(self, accuracy) -> int | None:
        """The first epoch (1-based) whose validation accuracy reaches ``accuracy``, or None."""
        hits = np.flatnonzero(self.val_accuracy >= accuracy)
        return int(hits[0]) + 1 if hits.size else None


@_one_blas_thread
def train_deep(activation, scheme, data, depth=10, width=64, epochs=10, batch_size=64, lr=0.01, momentum=0.9,
               rng=0) -> DeepRun:
    """Train :func:`deep_mlp` (``depth`` hidden layers, softmax head) on ``data`` with SGD + momentum.

    ``data``: a :class:`gdcourse.data.Dataset` (standardized digits); validation is its
    test part. Only the initialization differs between runs with the same arguments.
    """
    model = deep_mlp(depth, width, activation, scheme, in_features=data.num_features,
                     num_classes=data.num_classes, rng=rng)
    loss = losses.CrossEntropyLoss()
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        initial = loss.forward(train.predict(model, data.X_train), data.y_train)
        opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        try:
            history = train.fit(model, loss, opt, (data.X_train, data.y_train), epochs=epochs,
                                batch_size=batch_size, val=(data.X_test, data.y_test), progress=False, rng=rng)
            diverged_at = None
        except train.TrainingDiverged as err:
            history, diverged_at = err.history, len(err.history.step_loss)
    return DeepRun(activation, scheme, float(initial), np.asarray(history.epochs.get("train_loss", [])),
                   np.asarray(history.epochs.get("val_accuracy", [])), diverged_at)


# ---------------------------------------------------------------- the explorer

EXPLORER_WIDTH = 256
EXPLORER_BATCH = 128
EXPLORER_SEED = 0


def explore_init(scheme="xavier", activation="tanh", depth=30, gain=1.0) -> DepthProfile:
    """The init explorer's data: :func:`depth_profile` at width 256, batch 128, seed 0."""
    _check_scheme(scheme, EXPLORER_SCHEMES)
    return depth_profile(scheme, activation, depth, EXPLORER_WIDTH, gain, batch=EXPLORER_BATCH, rng=EXPLORER_SEED)
