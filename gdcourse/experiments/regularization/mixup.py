"""REG-07b: mixup on a 2-D toy, its decision boundary and its calibration, over seeds.

mixup (Zhang et al. 2018) trains on convex combinations of pairs of examples and of their labels:
``x̃ = λ x_i + (1 − λ) x_j``, ``ỹ = λ y_i + (1 − λ) y_j`` with ``λ ~ Beta(α, α)`` and ``j`` a random partner
from the same batch. The network is asked to be linear between training points, which smooths the decision
boundary and lowers the confidence away from the data. CutMix (Yun et al. 2019) does the same for images by
pasting a rectangle of one image into another, the label mixed by the pasted area.

:func:`mixup_study` trains the same ``2-64-64-2`` ReLU networks (one per seed, all seeds at once, SGD with
momentum) on 60 noisy moons per seed, with and without mixup, and measures on 1,000 fresh points: accuracy,
negative log-likelihood, ECE and the mean input-gradient norm ``‖∇_x (z_1 − z_0)‖`` of the logit margin (how
steep the boundary is).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from gdcourse import functional as F
from gdcourse.data import make_moons
from gdcourse.experiments.regularization.label_smoothing import expected_calibration_error
from gdcourse.memo import stored
from gdcourse.validate import check_positive, check_positive_int

__all__ = ["mixup_data", "mix_batch", "train_mixup_nets", "class_probabilities", "margin_gradient_norm",
           "MixupStudy", "mixup_study"]


def mixup_data(seed: int, n_train: int = 60, noise: float = 0.3):
    """``X (n_train, 2), y (n_train,)``: the moons of seed ``seed`` in :func:`mixup_study`.

    They are drawn with ``default_rng(1000 + seed)``.
    """
    return make_moons(check_positive_int(n_train, "n_train"), noise=noise, rng=1000 + int(seed))


def mix_batch(X, Y, alpha: float, rng):
    """``(X̃, Ỹ)``: each row mixed with a random row of the same batch, ``λ ~ Beta(α, α)`` per row.

    ``X (B, d)``, ``Y (B, K)`` one-hot or soft; the same ``λ`` mixes inputs and labels.
    """
    alpha = check_positive(alpha, "alpha")
    lam = rng.beta(alpha, alpha, size=(len(X), 1))
    partner = rng.permutation(len(X))
    return lam * X + (1 - lam) * X[partner], lam * Y + (1 - lam) * Y[partner]


def _init(rng, sizes):
    return [p for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
            for p in (rng.normal(0.0, np.sqrt(2.0 / n_in), (n_in, n_out)), np.zeros(n_out))]


def _forward(params, X):
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.maximum(X @ W1 + b1, 0.0)
    h2 = np.maximum(h1 @ W2 + b2, 0.0)
    return h1, h2, h2 @ W3 + b3


def train_mixup_nets(data, alpha=None, hidden=64, epochs=300, lr=0.05, batch_size=20, seeds=(0,)) -> list:
    """One ``2-hidden-hidden-2`` ReLU network per seed on ``data[s] = (X (n, 2), y (n,))``; the list of params.

    He-normal weights, zero biases, SGD with momentum 0.9 on the cross-entropy of (mixed, if ``alpha``) targets.
    Each seed's generator draws its initialization, batch order and mixing. (Seeds are looped: the network
    is tiny, the loop costs little.)
    """
    hidden, epochs = check_positive_int(hidden, "hidden"), check_positive_int(epochs, "epochs")
    lr = check_positive(lr, "lr")
    out = []
    for seed, (X, y) in zip(seeds, data, strict=True):
        rng = np.random.default_rng(int(seed))
        params = _init(rng, (2, hidden, hidden, 2))
        buffers = [np.zeros_like(p) for p in params]
        Y = np.eye(2)[y]
        for _ in range(epochs):
            order = rng.permutation(len(X))
            for start in range(0, len(X), batch_size):
                idx = order[start:start + batch_size]
                xb, yb = (X[idx], Y[idx]) if alpha is None else mix_batch(X[idx], Y[idx], alpha, rng)
                h1, h2, z = _forward(params, xb)
                g = (F.softmax(z, axis=1) - yb) / len(idx)
                d2 = g @ params[4].T * (h2 > 0)
                d1 = d2 @ params[2].T * (h1 > 0)
                grads = [xb.T @ d1, d1.sum(0), h1.T @ d2, d2.sum(0), h2.T @ g, g.sum(0)]
                for p, gr, b in zip(params, grads, buffers, strict=True):
                    b *= 0.9
                    b += gr
                    p -= lr * b
        out.append(params)
    return out


def class_probabilities(params, X) -> np.ndarray:
    """Softmax output ``(N, 2)`` of one network of :func:`train_mixup_nets` on ``X (N, 2)``."""
    return F.softmax(_forward(params, X)[2], axis=1)


def margin_gradient_norm(params, X) -> np.ndarray:
    """``‖∇_x (z_1 − z_0)‖`` at every row of ``X (N, 2)``: ``(N,)``, by the chain rule through both ReLUs."""
    W1, b1, W2, b2, W3, _ = params
    h1, h2, _ = _forward(params, X)
    d2 = (W3[:, 1] - W3[:, 0]) * (h2 > 0)                 # (N, hidden)
    d1 = d2 @ W2.T * (h1 > 0)
    return np.linalg.norm(d1 @ W1.T, axis=1)


@dataclass(frozen=True)
class MixupStudy:
    """Per seed ``(S,)``, for ``"erm"`` (plain training) and ``"mixup"``: ``accuracy``, ``nll``, ``ece`` and
    ``steepness`` (mean margin-gradient norm) on the fresh points; ``params`` of both, per seed."""

    alpha: float
    accuracy: dict
    nll: dict
    ece: dict
    steepness: dict
    params: dict


@functools.lru_cache(maxsize=4)
@stored
def mixup_study(alpha: float = 1.0, seeds: tuple = tuple(range(20)), n_train: int = 60,
                noise: float = 0.3) -> MixupStudy:
    """Plain training vs mixup(``alpha``) on ``n_train`` moons per seed (data seed ``1000 + s``), same
    initialization and batch order per seed; evaluated on 1,000 fresh moons (drawn with ``default_rng(999)``)."""
    data = [mixup_data(s, n_train, noise) for s in seeds]
    X_val, y_val = make_moons(1000, noise=noise, rng=999)
    fields = {k: {} for k in ("accuracy", "nll", "ece", "steepness", "params")}
    for name, a in (("erm", None), ("mixup", alpha)):
        nets = train_mixup_nets(data, alpha=a, seeds=seeds)
        probs = [class_probabilities(p, X_val) for p in nets]
        fields["accuracy"][name] = np.array([np.mean(p.argmax(1) == y_val) for p in probs])
        fields["nll"][name] = np.array([-np.mean(np.log(p[np.arange(len(y_val)), y_val] + 1e-300)) for p in probs])
        fields["ece"][name] = np.array([expected_calibration_error(p, y_val) for p in probs])
        fields["steepness"][name] = np.array([margin_gradient_norm(p, X_val).mean() for p in nets])
        fields["params"][name] = nets
    return MixupStudy(float(alpha), **fields)
