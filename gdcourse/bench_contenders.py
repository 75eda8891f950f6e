"""What ``gdcourse bench`` times: the MLPs, the problem they share, and the contenders.

Each contender is a callable doing one training step (returning the loss where there
is one) with a ``reset()`` that puts the problem's initial weights back; see
:mod:`gdcourse.bench` for the method and ``bench/README.md`` for the results.
:class:`OptimizerStep` times one update rule alone (``gdcourse bench --optimizers``).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from gdcourse import losses, nn, optim
from gdcourse.optim import SGD
from gdcourse.validate import as_rng

__all__ = [
    "LEARNING_RATE", "MLPSpec", "SPECS", "Problem", "make_problem",
    "GemmBound", "GdcourseStep", "NumpyStep", "TorchStep",
    "OptimizerStep", "AdamAsTheFormula", "UPDATE_RULES",
]

LEARNING_RATE = 0.01


@dataclass(frozen=True)
class MLPSpec:
    """An MLP to time: layer widths ``sizes`` (input first), ``batch`` rows, its loss
    (``"cross_entropy"`` on ``sizes[-1]`` classes or ``"mse"``) and the DESIGN.md target
    for ``step time / GEMM-bound time``."""

    sizes: tuple[int, ...]
    batch: int
    loss: str
    target: float

    @property
    def name(self) -> str:
        return "-".join(map(str, self.sizes))

    @property
    def num_layers(self) -> int:
        return len(self.sizes) - 1


SPECS = (
    MLPSpec((784, 256, 256, 10), 128, "cross_entropy", 1.15),
    MLPSpec((64, 128, 10), 64, "cross_entropy", 1.6),  # the digits data set's size
    MLPSpec((2, 16, 16, 1), 32, "mse", 2.5),  # a toy regression
)


# --- the problem every contender solves ----------------------------------------------

@dataclass
class Problem:
    """One batch and one set of initial weights, shared by all contenders.

    ``x (batch, sizes[0])``; ``y`` int labels ``(batch,)`` for cross-entropy or
    targets ``(batch, 1)`` for MSE; ``weights[i] (sizes[i], sizes[i+1])`` and
    ``biases[i] (sizes[i+1],)`` in gdcourse's layout ``y = x @ W + b``.
    """

    spec: MLPSpec
    x: np.ndarray
    y: np.ndarray
    weights: list
    biases: list


def make_problem(spec: MLPSpec, dtype=np.float32, rng=0) -> Problem:
    """Random inputs, targets and He-normal weights (He et al., 2015) for ``spec``.

    Biases are small and non-zero so that a contender that forgot them would
    compute a different update (the equivalence test relies on it).
    """
    if spec.loss not in ("cross_entropy", "mse"):
        raise ValueError(f"spec.loss: expected 'cross_entropy' or 'mse', got {spec.loss!r}")
    rng = as_rng(rng)
    sizes, n = spec.sizes, spec.batch
    x = rng.standard_normal((n, sizes[0])).astype(dtype)
    if spec.loss == "cross_entropy":
        y = rng.integers(0, sizes[-1], size=n)
    else:
        if sizes[-1] != 1:
            raise ValueError(f"spec.sizes: an 'mse' MLP must end in 1 output, got {sizes[-1]}")
        y = rng.standard_normal((n, 1)).astype(dtype)
    weights = [
        (rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(dtype) for a, b in pairwise(sizes)
    ]
    biases = [(0.1 * rng.standard_normal(b)).astype(dtype) for b in sizes[1:]]
    return Problem(spec, x, y, weights, biases)


# --- contenders ----------------------------------------------------------------------
# Each is a callable doing one training step (returning the loss where there is one)
# with a ``reset()`` that puts the problem's initial weights back.

class GemmBound:
    """The matrix products of one training step and nothing else.

    ``products`` is the list of ``(a, b, out)`` triples run as
    ``np.dot(a, b, out=out)``, in the order a step runs them::

        forward,  layer i = 0..L-1:      z_i  = h_i @ W_i       (N, d_i) @ (d_i, d_i+1)
        backward, layer i = L-1..0:      dW_i = h_iᵀ @ δ_i      (d_i, N) @ (N, d_i+1)
                  and if i > 0:          dh_i = δ_i @ W_iᵀ      (N, d_i+1) @ (d_i+1, d_i)

    ``3L - 1`` products: 8 for three layers, 5 for two. The operands are
    preallocated, with the layouts the step uses (``hᵀ`` and ``Wᵀ`` are transposed
    views), and filled with the problem's values so no subnormal or NaN slows BLAS.
    ``np.dot`` rather than ``np.matmul``: for 2-D operands it is the cheaper call
    into the same BLAS routine (about 0.5 µs less per product on small ones), so
    a step that uses it cannot look faster than the bound.
    """

    def __init__(self, problem: Problem):
        spec, dtype = problem.spec, problem.x.dtype
        rng = np.random.default_rng(1)
        n = spec.batch
        self.weights = [w.copy() for w in problem.weights]
        self.inputs = [problem.x.copy()] + [
            rng.standard_normal((n, d)).astype(dtype) for d in spec.sizes[1:-1]
        ]
        self.deltas = [rng.standard_normal((n, d)).astype(dtype) for d in spec.sizes[1:]]
        self.outputs = [np.empty((n, d), dtype) for d in spec.sizes[1:]]
        self.weight_grads = [np.empty_like(w) for w in self.weights]
        self.input_grads = [None] + [np.empty((n, d), dtype) for d in spec.sizes[1:-1]]
        layers = range(spec.num_layers)
        self.products = [(self.inputs[i], self.weights[i], self.outputs[i]) for i in layers]
        for i in reversed(layers):
            self.products.append((self.inputs[i].T, self.deltas[i], self.weight_grads[i]))
            if i > 0:
                self.products.append((self.deltas[i], self.weights[i].T, self.input_grads[i]))

    def __call__(self):
        dot = np.dot
        for a, b, out in self.products:
            dot(a, b, out=out)

    def reset(self):
        """Nothing to restore: the bound never changes its weights."""


class GdcourseStep:
    """One training step with gdcourse, written as a learner writes it."""

    def __init__(self, problem: Problem, lr=LEARNING_RATE):
        spec = problem.spec
        self.model = _gdcourse_mlp(problem)
        self.linears = [layer for layer in self.model if isinstance(layer, nn.Linear)]
        self.loss = losses.CrossEntropyLoss() if spec.loss == "cross_entropy" else losses.MSELoss()
        self.optimizer = SGD(self.model.parameters(), lr=lr)
        self.x, self.y, self._problem = problem.x, problem.y, problem
        self.reset()

    def __call__(self):
        pred = self.model(self.x)
        loss = self.loss.forward(pred, self.y)
        self.model.backward(self.loss.backward(), input_grad=False)
        self.optimizer.step()
        self.optimizer.zero_grad()
        return loss

    def reset(self):
        for layer, w, b in zip(self.linears, self._problem.weights, self._problem.biases, strict=True):
            layer.weight.value = w
            layer.bias.value = b


def _gdcourse_mlp(problem):
    """``nn.Sequential`` of ``Linear`` and ``ReLU`` layers with the problem's sizes and dtype."""
    spec, layers = problem.spec, []
    for i, (a, b) in enumerate(pairwise(spec.sizes)):
        layers.append(nn.Linear(a, b, dtype=problem.x.dtype, rng=i))
        if i < spec.num_layers - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class NumpyStep:
    """The plain vectorized NumPy step: bias add, ReLU, softmax cross-entropy or MSE,
    backpropagation and ``W -= lr * dW``; nothing preallocated, nothing clever."""

    def __init__(self, problem: Problem, lr=LEARNING_RATE):
        self.lr = lr
        self.x, self.y, self._problem = problem.x, problem.y, problem
        self.cross_entropy = problem.spec.loss == "cross_entropy"
        self.reset()

    def __call__(self):
        Ws, bs, lr = self.weights, self.biases, self.lr
        hs = [self.x]
        for W, b in zip(Ws[:-1], bs[:-1], strict=True):
            hs.append(np.maximum(hs[-1] @ W + b, 0))
        out = hs[-1] @ Ws[-1] + bs[-1]
        loss, d = self._loss_and_grad(out)
        for i in reversed(range(len(Ws))):
            dW = hs[i].T @ d
            db = d.sum(axis=0)
            if i > 0:
                d = (d @ Ws[i].T) * (hs[i] > 0)
            Ws[i] -= lr * dW
            bs[i] -= lr * db
        return loss

    def _loss_and_grad(self, out):
        n = out.shape[0]
        if self.cross_entropy:
            rows = np.arange(n)
            z = out - out.max(axis=1, keepdims=True)
            e = np.exp(z)
            s = e.sum(axis=1, keepdims=True)
            loss = float(np.log(s).mean() - z[rows, self.y].mean())
            d = e / s
            d[rows, self.y] -= 1
            d /= n
            return loss, d
        diff = out - self.y
        return float((diff * diff).mean()), diff * (2 / diff.size)

    def reset(self):
        self.weights = [w.copy() for w in self._problem.weights]
        self.biases = [b.copy() for b in self._problem.biases]


class TorchStep:
    """The same step with ``torch.nn`` and ``torch.optim.SGD`` on the CPU.

    Reports the loss with ``loss.item()`` as the other steps return a float.
    ``torch.nn.Linear`` stores ``W`` as ``(out, in)``, so it gets our ``Wᵀ``.
    """

    def __init__(self, problem: Problem, lr=LEARNING_RATE):
        import torch

        self.torch = torch
        spec = problem.spec
        layers = []
        for i, (a, b) in enumerate(pairwise(spec.sizes)):
            layers.append(torch.nn.Linear(a, b, dtype=_torch_dtype(torch, problem.x.dtype)))
            if i < spec.num_layers - 1:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers)
        self.linears = [layer for layer in layers if isinstance(layer, torch.nn.Linear)]
        if spec.loss == "cross_entropy":
            self.loss_fn = torch.nn.CrossEntropyLoss()
            self.y = torch.from_numpy(problem.y.astype(np.int64))
        else:
            self.loss_fn = torch.nn.MSELoss()
            self.y = torch.from_numpy(problem.y)
        self.x = torch.from_numpy(problem.x)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr)
        self._problem = problem
        self.reset()

    def __call__(self):
        loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()
        return loss.item()

    def reset(self):
        with self.torch.no_grad():
            for layer, w, b in zip(self.linears, self._problem.weights, self._problem.biases, strict=True):
                layer.weight.copy_(self.torch.from_numpy(w.T.copy()))
                layer.bias.copy_(self.torch.from_numpy(b))

    def weights(self):
        """The current weights in gdcourse's ``(in, out)`` layout, as NumPy arrays."""
        return [layer.weight.detach().numpy().T.copy() for layer in self.linears]


def _torch_dtype(torch, dtype):
    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[np.dtype(dtype)]


# --- update rules alone --------------------------------------------------------------

class OptimizerStep:
    """One ``optimizer.step()`` on the packed parameters of the problem's MLP, nothing else.

    The gradients are fixed random values of the size of a real step's (``0.01 N(0, 1)``);
    ``reset()`` puts the initial weights back and keeps the optimizer's state.
    """

    def __init__(self, problem: Problem, make_optimizer):
        self.model = _gdcourse_mlp(problem)
        rng = np.random.default_rng(2)
        for p in self.model.parameters():
            p.grad = 0.01 * rng.standard_normal(p.shape)
        self.optimizer = make_optimizer(self.model.parameters())
        self._initial = self.model.state_dict()

    def __call__(self):
        self.optimizer.step()

    def reset(self):
        self.model.load_state_dict(self._initial)


class AdamAsTheFormula(optim.Adam):
    """Adam written line by line as its docstring formula, in the style of ``optim.NAdam``
    (running averages updated in place, every other line a new array): the reference
    that shows what ``optim.Adam``'s scratch buffers save."""

    def _update(self, w, g, state):
        beta1, beta2 = self.betas
        if "exp_avg" not in state:
            state["exp_avg"], state["exp_avg_sq"] = np.zeros_like(w), np.zeros_like(w)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g**2
        m_hat = m / (1 - beta1**self.t)
        v_hat = v / (1 - beta2**self.t)
        w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


UPDATE_RULES = {
    "SGD": lambda params: optim.SGD(params, lr=LEARNING_RATE),
    "SGD, momentum": lambda params: optim.SGD(params, lr=LEARNING_RATE, momentum=0.9),
    "SGD, Nesterov": lambda params: optim.SGD(params, lr=LEARNING_RATE, momentum=0.9, nesterov=True),
    "Adagrad": lambda params: optim.Adagrad(params),
    "Adadelta": lambda params: optim.Adadelta(params),
    "RMSprop": lambda params: optim.RMSprop(params),
    "Adam": lambda params: optim.Adam(params),
    "Adam, as the formula": lambda params: AdamAsTheFormula(params),
    "AdamW": lambda params: optim.AdamW(params),
    "NAdam": lambda params: optim.NAdam(params),
}
"""What ``gdcourse bench --optimizers`` times: name -> ``params -> optimizer`` (default hyper-parameters)."""
