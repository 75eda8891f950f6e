"""Computations behind notebook 07 (regularization and generalization).

Every function here is pure (random ones take ``rng``), so the notebook, the
explorers of :mod:`gdcourse.widgets.regularization` and
``tests/test_nb07_claims.py`` run the same code. Training runs that the notebook
and an explorer share are cached per setting (``functools.lru_cache``, int seeds
only) and return read-only arrays.

Sections, one per question: capacity (REG-01); an overfitting problem and the
toolbox (REG-02); L1 vs L2 (REG-03); squared vs plain L2 norm (REG-04); weight
decay vs L2 (REG-05); dropout (REG-06); augmentation (REG-07); early stopping
(REG-08); validation below training loss (REG-09); pruning (REG-10);
distillation (REG-11); memorization (REG-12); hyperparameter search (REG-13);
and the L1/L2 strength explorer on moons.

Conventions: the L2 penalty is ``(λ/2)‖w‖²`` with gradient ``λw`` and the L1
penalty ``λ‖w‖₁`` (as :mod:`gdcourse.regularization`); penalties act on weight
matrices, not biases.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from gdcourse import functional as F
from gdcourse import losses as L
from gdcourse import nn, optim
from gdcourse import regularization as R
from gdcourse.data import batch_indices, batches, load_digits, make_moons
from gdcourse.losses import distillation_loss
from gdcourse.nn import GaussianNoise
from gdcourse.train import accuracy, evaluate, fit, predict, roc_auc
from gdcourse.validate import (
    as_rng,
    check_array,
    check_labels,
    check_positive,
    check_positive_int,
    check_same_length,
    check_unit_interval,
)

__all__ = [
    # shared
    "digits", "mlp", "GaussianNoise", "read_only", "single_blas_thread",
    # REG-01
    "CapacitySweep", "capacity_sweep", "legendre_features",
    # REG-02, REG-06, REG-08 (the overfitting problem)
    "OVERFIT", "overfit_data", "OverfitRun", "overfit_run", "snap_dropout", "TOOLBOX", "toolbox_runs",
    "boundary_grid", "DropoutView", "dropout_view",
    # REG-03
    "soft_threshold", "one_dim_l1", "one_dim_l2", "sparse_regression", "lasso_ista", "ridge",
    "l1_subgradient", "regularization_paths", "RegPaths", "zero_fraction", "OutlierFits", "outlier_fits",
    "lad_line", "ConstraintGeometry", "constraint_geometry",
    # REG-04
    "penalty_gradient", "penalty_descent",
    # REG-05
    "weight_decay_comparison", "decay_effect",
    # REG-06
    "dropout_forward", "dropout_backward", "dropout_moments",
    # REG-07
    "shift_images", "flip_images", "augment_digits", "train_digits", "AugmentationStudy",
    "augmentation_study", "displaced_validation",
    # REG-08
    "should_stop",
    # REG-09
    "LossGapRun", "loss_gap_run",
    # REG-10
    "magnitude_masks", "random_masks", "PruningCurve", "pruning_curve", "dense_digits_model",
    # REG-11
    "distillation_loss", "soft_term_gradient_norms", "teacher_model", "train_student",
    "DistillationStudy", "distillation_study",
    # REG-12
    "one_step_checkpoints", "reconstruct_input", "roc_auc", "MembershipStudy", "membership_study",
    # REG-13
    "softmax_regression_scores", "grid_points", "random_points", "SearchStudy", "search_study",
    "SEARCH_RANGES",
    # the L1/L2 explorer
    "PENALTY_STRENGTHS", "snap_strength", "PenaltyRun", "penalty_run", "sparsity_threshold",
]


# ---------------------------------------------------------------- shared helpers

def read_only(*arrays):
    """Mark arrays read-only (cached results are shared between callers) and return them."""
    for a in arrays:
        if isinstance(a, np.ndarray):
            a.flags.writeable = False
    return arrays if len(arrays) > 1 else arrays[0]


@functools.lru_cache(maxsize=1)
def digits():
    """The digits split every experiment of the notebook uses: 988 train, 359 validation, 450 test.

    ``load_digits(test_fraction=0.25, val_fraction=0.2, rng=0)``; the test part is
    kept aside (nothing in notebook 07 is tuned on it).
    """
    ds = load_digits(test_fraction=0.25, val_fraction=0.2, rng=0)
    read_only(ds.X_train, ds.y_train, ds.X_val, ds.y_val, ds.X_test, ds.y_test)
    return ds


def mlp(sizes, dropout=0.0, input_noise=0.0, rng=None) -> nn.Sequential:
    """``Linear → ReLU (→ Dropout)`` for each hidden layer, then a final ``Linear`` (He init).

    ``sizes = (d_in, h_1, …, d_out)``; ``dropout`` after every hidden ReLU;
    ``input_noise`` adds a :class:`GaussianNoise` layer in front.
    """
    sizes = [check_positive_int(s, "sizes[i]") for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes: expected at least (d_in, d_out), got {sizes}")
    dropout = check_unit_interval(dropout, "dropout")
    rng = as_rng(rng)
    layers = [GaussianNoise(input_noise, rng)] if input_noise else []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b, rng=rng))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout, rng=rng))
    return nn.Sequential(*layers)


def single_blas_thread(fn):
    """Run ``fn`` with NumPy's BLAS limited to one thread.

    The matrix products of these small networks (widths up to 256, batches of
    20-64) gain nothing from BLAS threads; on a busy 2-core machine the threads
    wait on each other and training ran up to 20 times slower.
    """
    @functools.wraps(fn)
    def run(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return run


def _weight_params(model):
    return [p for p in model.parameters() if p.value.ndim >= 2]


def _cacheable(rng):
    return isinstance(rng, numbers.Integral) and not isinstance(rng, bool)


# ---------------------------------------------------------------- REG-01: capacity

@dataclass(frozen=True)
class CapacitySweep:
    """Least-squares polynomial fits of growing degree to ``n`` noisy samples of ``sin(πx)``.

    ``degrees (K,)``; ``train_mse``, ``val_mse (K,)``; ``x_train, y_train (n,)``;
    ``x_plot (P,)``, ``curves (K, P)`` the fitted polynomials; ``noise`` the target
    noise std (so ``noise²`` is the best achievable validation MSE).
    """

    degrees: np.ndarray
    train_mse: np.ndarray
    val_mse: np.ndarray
    x_train: np.ndarray
    y_train: np.ndarray
    x_plot: np.ndarray
    curves: np.ndarray
    noise: float

    @property
    def best_degree(self) -> int:
        return int(self.degrees[np.argmin(self.val_mse)])


def legendre_features(x, degree):
    """``[P_0(x), …, P_degree(x)]`` for ``x (N,)`` in [−1, 1]: shape ``(N, degree + 1)``.

    Legendre polynomials span the same space as ``1, x, …, x^d`` but stay well
    conditioned at high degree.
    """
    x = check_array(x, "x", ndim=1)
    degree = check_positive_int(degree, "degree", allow_zero=True)
    return np.polynomial.legendre.legvander(x, degree)


def capacity_sweep(degrees=range(0, 15), n_train=15, n_val=500, noise=0.25, rng=0) -> CapacitySweep:
    """Fit polynomials of each degree by least squares; measure train and validation MSE.

    ``x ~ U(−1, 1)``, ``y = sin(πx) + N(0, noise²)``. Low degrees underfit (high
    training error), degrees near ``n_train − 1`` interpolate the noise (training
    error → 0, validation error explodes). The models are nested, so the training
    error can only fall as the degree grows.
    """
    degrees = np.array([check_positive_int(int(d), "degree", allow_zero=True) for d in degrees])
    n_train = check_positive_int(n_train, "n_train")
    if degrees.max() >= n_train:
        raise ValueError(f"degrees: expected degrees below n_train={n_train}, got up to {degrees.max()}")
    noise = check_positive(noise, "noise")
    rng = as_rng(rng)
    x_train, x_val = rng.uniform(-1, 1, n_train), rng.uniform(-1, 1, check_positive_int(n_val, "n_val"))
    y_train = np.sin(np.pi * x_train) + noise * rng.standard_normal(n_train)
    y_val = np.sin(np.pi * x_val) + noise * rng.standard_normal(len(x_val))
    x_plot = np.linspace(-1, 1, 300)
    train_mse, val_mse, curves = [], [], []
    for d in degrees:
        coef = np.linalg.lstsq(legendre_features(x_train, d), y_train, rcond=None)[0]
        train_mse.append(np.mean((legendre_features(x_train, d) @ coef - y_train) ** 2))
        val_mse.append(np.mean((legendre_features(x_val, d) @ coef - y_val) ** 2))
        curves.append(legendre_features(x_plot, d) @ coef)
    return CapacitySweep(degrees, np.array(train_mse), np.array(val_mse), x_train, y_train, x_plot,
                         np.array(curves), noise)


# ---------------------------------------------------------------- REG-02: the overfitting problem

OVERFIT = {"n_train": 60, "n_val": 200, "noise": 0.3, "width": 128, "epochs": 150, "batch_size": 20,
           "lr": 0.005}
"""The overfitting problem of notebook 07: 60 noisy moons, a 2-128-128-2 ReLU network, AdamW (lr 0.005),
batches of 20, 150 epochs, validated on 200 fresh points."""


@functools.lru_cache(maxsize=1)
def overfit_data():
    """``X (60, 2), y (60,), X_val (200, 2), y_val (200,)``: moons with noise 0.3 (seeds 1 and 2)."""
    X, y = make_moons(OVERFIT["n_train"], noise=OVERFIT["noise"], rng=1)
    X_val, y_val = make_moons(OVERFIT["n_val"], noise=OVERFIT["noise"], rng=2)
    return read_only(X, y, X_val, y_val)


@functools.lru_cache(maxsize=1)
def boundary_grid(n=60):
    """``(xx, yy, points)``: an ``n × n`` grid over the moons plane and its points ``(n², 2)``."""
    xs, ys = np.linspace(-1.8, 2.8, n), np.linspace(-1.4, 1.9, n)
    xx, yy = np.meshgrid(xs, ys)
    return read_only(xx, yy, np.column_stack([xx.ravel(), yy.ravel()]))


def _class1_probability(model, points, shape):
    return F.softmax(predict(model, points), axis=1)[:, 1].reshape(shape)


@dataclass(frozen=True)
class OverfitRun:
    """One training run on the overfitting problem.

    Per epoch (arrays of length ``epochs_run``): ``train_loss`` (mean of the epoch's
    step losses, with dropout/noise active), ``val_loss``, ``val_accuracy``. For the
    final model (the restored best one under early stopping): ``final_train_loss``,
    ``final_train_accuracy`` (evaluation mode), ``final_val_loss``,
    ``final_val_accuracy``. ``best_epoch`` is 1-based (argmin of ``val_loss``);
    ``boundary (60, 60)`` the class-1 probability on :func:`boundary_grid`.
    """

    dropout: float
    weight_decay: float
    input_noise: float
    patience: int | None
    train_loss: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    final_train_loss: float
    final_train_accuracy: float
    final_val_loss: float
    final_val_accuracy: float
    stopped_early: bool
    boundary: np.ndarray

    @property
    def epochs_run(self) -> int:
        return len(self.val_loss)

    @property
    def best_epoch(self) -> int:
        return int(np.argmin(self.val_loss)) + 1

    @property
    def gap(self) -> float:
        """Final validation loss minus final (evaluation-mode) training loss."""
        return self.final_val_loss - self.final_train_loss


def snap_dropout(p) -> float:
    """Round a dropout rate to the explorer's grid 0, 0.1, …, 0.9 (so settings share the cache)."""
    p = check_unit_interval(p, "dropout")
    return min(round(p * 10) / 10, 0.9)


def overfit_run(dropout=0.0, weight_decay=0.0, input_noise=0.0, patience=None, epochs=None,
                rng=0) -> OverfitRun:
    """Train the :data:`OVERFIT` network with the given regularizers and record the curves.

    ``weight_decay`` is AdamW's decoupled decay (per step ``w ← w − lr·λ·w``);
    ``patience`` turns on :class:`gdcourse.regularization.EarlyStopping` (restoring
    the best weights). With an int ``rng`` the result is cached per setting.
    """
    dropout = check_unit_interval(dropout, "dropout")
    weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
    input_noise = check_positive(input_noise, "input_noise", allow_zero=True)
    if patience is not None:
        patience = check_positive_int(patience, "patience")
    epochs = OVERFIT["epochs"] if epochs is None else check_positive_int(epochs, "epochs")
    if _cacheable(rng):
        return _overfit_run_cached(dropout, weight_decay, input_noise, patience, epochs, int(rng))
    return _overfit_run(dropout, weight_decay, input_noise, patience, epochs, rng)


@functools.lru_cache(maxsize=64)
def _overfit_run_cached(dropout, weight_decay, input_noise, patience, epochs, seed):
    return _overfit_run(dropout, weight_decay, input_noise, patience, epochs, seed)


@single_blas_thread
def _overfit_run(dropout, weight_decay, input_noise, patience, epochs, rng):
    X, y, X_val, y_val = overfit_data()
    rng = as_rng(rng)
    width = OVERFIT["width"]
    model = mlp((2, width, width, 2), dropout=dropout, input_noise=input_noise, rng=rng)
    loss = L.CrossEntropyLoss()
    opt = optim.AdamW(model.parameters(), lr=OVERFIT["lr"], weight_decay=weight_decay)
    stopper = R.EarlyStopping(patience) if patience else None
    history = fit(model, loss, opt, (X, y), epochs=epochs, batch_size=OVERFIT["batch_size"],
                  val=(X_val, y_val), early_stopping=stopper, progress=False, rng=rng)
    on_train, on_val = evaluate(model, loss, X, y), evaluate(model, loss, X_val, y_val)
    xx, _, points = boundary_grid()
    boundary = _class1_probability(model, points, xx.shape)
    return OverfitRun(dropout, weight_decay, input_noise, patience,
                      *read_only(history["train_loss"], history["val_loss"], history["val_accuracy"]),
                      on_train["loss"], on_train["accuracy"], on_val["loss"], on_val["accuracy"],
                      history.stopped_early, read_only(boundary))


TOOLBOX = {
    "no regularization": {},
    "weight decay (AdamW, λ = 2)": {"weight_decay": 2.0},
    "dropout p = 0.5": {"dropout": 0.5},
    "input noise σ = 0.2": {"input_noise": 0.2},
    "early stopping (patience 10)": {"patience": 10},
}
"""The regularizers compared in REG-02, each alone, on the overfitting problem."""


def toolbox_runs(rng=0) -> dict:
    """``{name: OverfitRun}`` for every entry of :data:`TOOLBOX` (same seed for all)."""
    return {name: overfit_run(**settings, rng=rng) for name, settings in TOOLBOX.items()}


@dataclass(frozen=True)
class DropoutView:
    """What the dropout explorer shows: the run with dropout ``p`` and the run without dropout."""

    run: OverfitRun
    baseline: OverfitRun


def dropout_view(p=0.5, rng=0) -> DropoutView:
    """:func:`overfit_run` with dropout ``p`` (snapped to 0, 0.1, …, 0.9) beside the unregularized run."""
    return DropoutView(overfit_run(dropout=snap_dropout(p), rng=rng), overfit_run(rng=rng))


# ---------------------------------------------------------------- REG-03: L1 vs L2

def soft_threshold(w, threshold):
    """The proximal operator of ``t‖w‖₁``: ``sign(w) · max(|w| − t, 0)`` (elementwise)."""
    threshold = np.asarray(threshold, dtype=float)
    if np.any(threshold < 0):
        raise ValueError(f"threshold: expected values >= 0, got {threshold}")
    w = np.asarray(w, dtype=float)
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)


def one_dim_l1(a, lam):
    """``argmin_w ½(w − a)² + λ|w|`` = ``soft_threshold(a, λ)``: exactly 0 whenever ``|a| ≤ λ``."""
    return soft_threshold(a, check_positive(lam, "lam", allow_zero=True))


def one_dim_l2(a, lam):
    """``argmin_w ½(w − a)² + (λ/2)w²`` = ``a / (1 + λ)``: shrunk, zero only if ``a = 0``."""
    return np.asarray(a, dtype=float) / (1.0 + check_positive(lam, "lam", allow_zero=True))


def sparse_regression(n=60, d=12, informative=3, noise=0.5, rng=0):
    """``y = X w* + ε`` with only ``informative`` non-zero entries of ``w*`` (the first ones).

    ``X ~ N(0, I)``, non-zero weights ``±(1 … 2)``, ``ε ~ N(0, noise²)``. Returns
    ``X (n, d)``, ``y (n,)``, ``w_true (d,)``.
    """
    n, d = check_positive_int(n, "n"), check_positive_int(d, "d")
    informative = check_positive_int(informative, "informative")
    if informative > d:
        raise ValueError(f"informative: expected at most d={d}, got {informative}")
    rng = as_rng(rng)
    w_true = np.zeros(d)
    w_true[:informative] = rng.choice([-1.0, 1.0], informative) * rng.uniform(1.0, 2.0, informative)
    X = rng.standard_normal((n, d))
    y = X @ w_true + check_positive(noise, "noise", allow_zero=True) * rng.standard_normal(n)
    return X, y, w_true


def _least_squares_parts(X, y):
    X = check_array(X, "X", ndim=2, finite=True)
    y = check_array(y, "y", ndim=1, finite=True)
    check_same_length(X, y, "X", "y")
    n = len(X)
    H = X.T @ X / n
    return X, y, H, X.T @ y / n, float(np.linalg.eigvalsh(H)[-1])


def lasso_ista(X, y, lams, steps=3000):
    """Minimize ``(1/2N)‖Xw − y‖² + λ‖w‖₁`` by ISTA, for every λ in ``lams`` at once.

    ISTA (proximal gradient; Daubechies et al., 2004; Beck & Teboulle, 2009) takes a
    gradient step on the smooth part with step ``1/L`` (``L`` the largest eigenvalue
    of ``XᵀX/N``), then applies :func:`soft_threshold` with ``λ/L``. The threshold
    sets small coordinates to exactly 0.0, which a (sub)gradient step never does.

    ``lams`` scalar or ``(K,)``; returns ``W (K, d)`` (or ``(d,)`` for a scalar).
    """
    X, y, H, Xty, L_max = _least_squares_parts(X, y)
    lams_arr = np.atleast_1d(np.asarray(lams, dtype=float))
    if np.any(lams_arr < 0):
        raise ValueError(f"lams: expected values >= 0, got {lams}")
    step = 1.0 / L_max
    W = np.zeros((len(lams_arr), X.shape[1]))
    for _ in range(check_positive_int(steps, "steps")):
        W = soft_threshold(W - step * (W @ H - Xty), step * lams_arr[:, None])
    return W[0] if np.ndim(lams) == 0 else W


def ridge(X, y, lams):
    """Minimize ``(1/2N)‖Xw − y‖² + (λ/2)‖w‖²``: the linear system ``(XᵀX/N + λI) w = Xᵀy/N``.

    ``lams`` scalar or ``(K,)``; returns ``W (K, d)`` (or ``(d,)``).
    """
    X, y, H, Xty, _ = _least_squares_parts(X, y)
    lams_arr = np.atleast_1d(np.asarray(lams, dtype=float))
    if np.any(lams_arr < 0):
        raise ValueError(f"lams: expected values >= 0, got {lams}")
    W = np.array([np.linalg.solve(H + lam * np.eye(len(H)), Xty) for lam in lams_arr])
    return W[0] if np.ndim(lams) == 0 else W


def l1_subgradient(X, y, lam, steps=3000, lr=None):
    """Plain subgradient descent on ``(1/2N)‖Xw − y‖² + λ‖w‖₁`` (step ``lr``, default ``1/L``).

    The step ``−lr·λ·sign(w)`` overshoots zero, so coordinates that should be zero
    flip sign and jitter in ``[−lr·λ, lr·λ]`` instead of landing on 0.0.
    Returns ``w (d,)``.
    """
    X, y, H, Xty, L_max = _least_squares_parts(X, y)
    lam = check_positive(lam, "lam", allow_zero=True)
    lr = 1.0 / L_max if lr is None else check_positive(lr, "lr")
    w = np.zeros(X.shape[1])
    for _ in range(check_positive_int(steps, "steps")):
        w = w - lr * (H @ w - Xty + lam * np.sign(w))
    return w


def zero_fraction(w) -> float:
    """Share of entries that are exactly 0.0 (not merely small)."""
    w = np.asarray(w)
    return float(np.mean(w == 0.0)) if w.size else 0.0


@dataclass(frozen=True)
class RegPaths:
    """Coefficients along a path of strengths: ``lams (K,)``, ``l1 (K, d)`` (ISTA), ``l2 (K, d)`` (ridge)."""

    lams: np.ndarray
    l1: np.ndarray
    l2: np.ndarray
    w_true: np.ndarray

    @property
    def l1_zero_fraction(self) -> np.ndarray:
        return np.mean(self.l1 == 0.0, axis=1)

    @property
    def l2_zero_fraction(self) -> np.ndarray:
        return np.mean(self.l2 == 0.0, axis=1)


def regularization_paths(X, y, w_true=None, num=30, steps=3000) -> RegPaths:
    """L1 and L2 solutions for ``num`` strengths log-spaced up to ``λ_max = ‖Xᵀy/N‖_∞``.

    ``λ_max`` is the smallest λ for which the lasso solution is all zeros (the
    subgradient condition at w = 0).
    """
    X = check_array(X, "X", ndim=2, finite=True)
    y = check_array(y, "y", ndim=1, finite=True)
    lam_max = float(np.max(np.abs(X.T @ y / len(X))))
    lams = np.geomspace(lam_max * 1e-3, lam_max * 1.05, check_positive_int(num, "num"))
    w_true = np.zeros(X.shape[1]) if w_true is None else np.asarray(w_true, dtype=float)
    return RegPaths(lams, lasso_ista(X, y, lams, steps), ridge(X, y, lams), w_true)


@dataclass(frozen=True)
class ConstraintGeometry:
    """The two-weight picture of L1 vs L2 for ``f(w) = ½(w − w*)ᵀH(w − w*)``.

    ``w_l1`` minimizes ``f + λ‖w‖₁`` (ISTA), ``w_l2`` minimizes ``f + (λ/2)‖w‖²``; as
    constrained problems they are the points of the diamond ``‖w‖₁ ≤ ‖w_l1‖₁`` and of
    the disc ``‖w‖₂ ≤ ‖w_l2‖₂`` with the lowest loss.
    """

    H: np.ndarray
    w_star: np.ndarray
    w_l1: np.ndarray
    w_l2: np.ndarray
    lam: float

    def loss(self, w):
        """``f`` at points ``w (..., 2)``."""
        d = np.asarray(w, dtype=float) - self.w_star
        return 0.5 * np.einsum("...i,ij,...j->...", d, self.H, d)


def constraint_geometry(lam=0.8, w_star=(1.5, 0.6), H=((1.0, -0.3), (-0.3, 1.5)),
                        steps=2000) -> ConstraintGeometry:
    """Solve the 2-D L1 and L2 problems of :class:`ConstraintGeometry` (the L1 one lands on an axis)."""
    H, w_star = np.array(H, dtype=float), np.array(w_star, dtype=float)
    lam = check_positive(lam, "lam")
    step = 1.0 / np.linalg.eigvalsh(H)[-1]
    w = np.zeros(2)
    for _ in range(check_positive_int(steps, "steps")):
        w = soft_threshold(w - step * H @ (w - w_star), step * lam)
    w_l2 = np.linalg.solve(H + lam * np.eye(2), H @ w_star)
    return ConstraintGeometry(H, w_star, w, w_l2, lam)


@dataclass(frozen=True)
class OutlierFits:
    """Straight-line fits ``y = a x + b`` to the same data, clean and with one outlier.

    ``fits[name] = (slope, intercept)`` for "MSE, clean data", "MSE", "MSE + L1 penalty",
    "L1 loss"; ``x, y`` the data with the outlier at index ``outlier``; ``true`` the
    line that generated them.
    """

    x: np.ndarray
    y: np.ndarray
    outlier: int
    true: tuple
    fits: dict
    penalty: float


def _mse_line(x, y):
    A = np.column_stack([x, np.ones_like(x)])
    slope, intercept = np.linalg.lstsq(A, y, rcond=None)[0]
    return float(slope), float(intercept)


def _mse_l1_line(x, y, lam, steps=20000):
    """Slope penalized by ``λ|a|``, intercept free: ISTA on ``(1/2N)‖a x + b − y‖² + λ|a|``."""
    A = np.column_stack([x, np.ones_like(x)])
    H, Aty = A.T @ A / len(x), A.T @ y / len(x)
    step = 1.0 / np.linalg.eigvalsh(H)[-1]
    w = np.zeros(2)
    for _ in range(steps):
        w = w - step * (H @ w - Aty)
        w[0] = soft_threshold(w[0], step * lam)
    return float(w[0]), float(w[1])


@single_blas_thread
def lad_line(x, y, steps=4000, lr=0.05, rng=0):
    """Least absolute deviations: a ``Linear(1, 1)`` trained on :class:`gdcourse.losses.L1Loss`.

    Full-batch gradient descent with a step ``lr/√(1 + t/100)`` (subgradient
    descent needs a decaying step to settle). Returns ``(slope, intercept)``.
    """
    x = check_array(x, "x", ndim=1, finite=True)
    y = check_array(y, "y", ndim=1, finite=True)
    check_same_length(x, y, "x", "y")
    model = nn.Linear(1, 1, init="zeros", rng=rng)
    loss, opt = L.L1Loss(), optim.SGD(model.parameters(), lr=lr)
    X, Y = x[:, None], y[:, None]
    for t in range(check_positive_int(steps, "steps")):
        opt.lr = lr / math.sqrt(1.0 + t / 100.0)
        opt.zero_grad()
        loss.forward(model.forward(X), Y)
        model.backward(loss.backward(), input_grad=False)
        opt.step()
    return float(model.weight.value[0, 0]), float(model.bias.value[0])


def outlier_fits(n=20, outlier_shift=12.0, penalty=0.05, rng=0) -> OutlierFits:
    """REG-03b: one outlier drags the MSE line and the MSE + L1-penalty line, not the L1-loss line.

    Data ``y = 2x + 1 + N(0, 0.2²)`` on ``x ∈ [0, 1]``; the point with the largest x
    gets ``+outlier_shift``.
    """
    rng = as_rng(rng)
    n = check_positive_int(n, "n")
    x = np.sort(rng.uniform(0, 1, n))
    clean = 2.0 * x + 1.0 + 0.2 * rng.standard_normal(n)
    y = clean.copy()
    y[-1] += check_positive(outlier_shift, "outlier_shift")
    fits = {
        "MSE, clean data": _mse_line(x, clean),
        "MSE": _mse_line(x, y),
        "MSE + L1 penalty": _mse_l1_line(x, y, check_positive(penalty, "penalty")),
        "L1 loss": lad_line(x, y),
    }
    return OutlierFits(x, y, n - 1, (2.0, 1.0), fits, penalty)


# ---------------------------------------------------------------- REG-04: squared vs plain L2 norm

def penalty_gradient(w, lam, kind):
    """Gradient of ``λ‖w‖²`` (``kind="squared"``: ``2λw``) or of ``λ‖w‖`` (``"norm"``: ``λ w/‖w‖``).

    The norm's gradient is undefined at ``w = 0`` (a cone's tip): a ValueError.
    """
    w = np.asarray(w, dtype=float)
    lam = check_positive(lam, "lam", allow_zero=True)
    if kind == "squared":
        return 2.0 * lam * w
    if kind == "norm":
        norm = np.linalg.norm(w)
        if norm == 0:
            raise ValueError("w: the gradient of λ‖w‖ is undefined at w = 0 (the norm has a kink there)")
        return lam * w / norm
    raise ValueError(f"kind: expected 'squared' or 'norm', got {kind!r}")


def penalty_descent(w0, lam, lr, steps, kind):
    """``‖w_t‖`` for t = 0 … steps when descending a penalty alone from ``w0``.

    ``"squared"``: ``w ← (1 − 2ηλ) w``, a geometric decay that never reaches 0;
    ``"norm"``: ``w ← w − ηλ w/‖w‖``, a constant pull that overshoots 0 and then
    bounces within ``ηλ`` of it; ``"norm-prox"``: the proximal step of ``λ‖w‖``
    (block soft-thresholding, as in the group lasso), ``w ← w · max(0, 1 − ηλ/‖w‖)``,
    which lands exactly on 0. Returns ``(steps + 1,)``.
    """
    w = np.array(w0, dtype=float)
    lam, lr = check_positive(lam, "lam"), check_positive(lr, "lr")
    if kind not in ("squared", "norm", "norm-prox"):
        raise ValueError(f"kind: expected 'squared', 'norm' or 'norm-prox', got {kind!r}")
    norms = [np.linalg.norm(w)]
    for _ in range(check_positive_int(steps, "steps", allow_zero=True)):
        norm = np.linalg.norm(w)
        if kind == "squared":
            w = (1.0 - 2.0 * lr * lam) * w
        elif kind == "norm":
            w = w - lr * lam * w / norm if norm > 0 else w
        else:
            w = w * max(0.0, 1.0 - lr * lam / norm) if norm > 0 else w
        norms.append(np.linalg.norm(w))
    return np.array(norms)


# ---------------------------------------------------------------- REG-05: weight decay vs L2

def _decay_problem(rng):
    rng = as_rng(rng)
    X, Y = rng.standard_normal((32, 4)), rng.standard_normal((32, 3))
    w0 = rng.standard_normal((4, 3))
    return X, Y, w0


def weight_decay_comparison(steps=10, lr=0.05, lam=0.1, rng=0) -> dict:
    """Final weights of a bias-free ``Linear(4, 3)`` (MSE, full batch) after ``steps`` steps, per variant.

    Variants (all from the same start and data):

    * ``"SGD(weight_decay)"``: the package's SGD with ``weight_decay=λ``;
    * ``"SGD + L2 in the loss"``: SGD without decay on the loss plus ``(λ/2)‖W‖²``;
    * ``"SGD, decay by hand"``: ``W ← (1 − ηλ)W − η∇L``;
    * ``"Adam(weight_decay)"``: Adam with ``weight_decay=λ`` (an L2 term inside the gradient);
    * ``"Adam + L2 in the loss"``: Adam without decay on the loss plus ``(λ/2)‖W‖²``;
    * ``"AdamW(weight_decay)"``: decoupled decay (Loshchilov & Hutter, 2019).
    """
    X, Y, w0 = _decay_problem(rng)
    steps, lr, lam = check_positive_int(steps, "steps"), check_positive(lr, "lr"), check_positive(lam, "lam")
    variants = {
        "SGD(weight_decay)": (lambda p: optim.SGD(p, lr=lr, weight_decay=lam), False),
        "SGD + L2 in the loss": (lambda p: optim.SGD(p, lr=lr), True),
        "Adam(weight_decay)": (lambda p: optim.Adam(p, lr=lr, weight_decay=lam), False),
        "Adam + L2 in the loss": (lambda p: optim.Adam(p, lr=lr), True),
        "AdamW(weight_decay)": (lambda p: optim.AdamW(p, lr=lr, weight_decay=lam), False),
    }
    out = {}
    for name, (make_opt, l2_in_loss) in variants.items():
        layer = nn.Linear(4, 3, bias=False)
        layer.weight.value = w0
        opt, loss = make_opt(layer.parameters()), L.MSELoss()
        for _ in range(steps):
            opt.zero_grad()
            loss.forward(layer.forward(X), Y)
            layer.backward(loss.backward(), input_grad=False)
            if l2_in_loss:
                R.add_l2_grad(layer.parameters(), lam)
            opt.step()
        out[name] = layer.weight.value.copy()
    w = w0.copy()
    for _ in range(steps):
        grad = X.T @ (2.0 * (X @ w - Y) / Y.size)  # MSELoss averages over all N·3 entries
        w = (1.0 - lr * lam) * w - lr * grad
    out["SGD, decay by hand"] = w
    return out


def decay_effect(optimizer, lam=0.1, lr=0.01, steps=100, grad_scales=(10.0, 0.0), rng=0) -> np.ndarray:
    """How much each weight shrank because of the decay term, after ``steps`` steps.

    Weights start at 1. Weight i receives a random data gradient ``grad_scales[i] · ε_t``
    (``ε_t ~ N(0, 1)``, the same draws in both runs); the run is repeated with
    ``λ = 0`` and the result is ``w_i(λ = 0) − w_i(λ)``. ``optimizer`` is
    ``"sgd"`` (weight_decay = L2), ``"adam+l2"`` (Adam's weight_decay, inside the
    adaptive scaling) or ``"adamw"``. Returns ``(len(grad_scales),)``.
    """
    makers = {
        "sgd": lambda p, wd: optim.SGD(p, lr=lr, weight_decay=wd),
        "adam+l2": lambda p, wd: optim.Adam(p, lr=lr, weight_decay=wd),
        "adamw": lambda p, wd: optim.AdamW(p, lr=lr, weight_decay=wd),
    }
    if optimizer not in makers:
        raise ValueError(f"optimizer: expected one of {sorted(makers)}, got {optimizer!r}")
    scales = np.asarray(grad_scales, dtype=float)
    noise = as_rng(rng).standard_normal((check_positive_int(steps, "steps"), len(scales)))
    finals = []
    for wd in (0.0, check_positive(lam, "lam")):
        p = nn.Parameter(np.ones(len(scales)), "w")
        opt = makers[optimizer]([p], wd)
        for eps in noise:
            opt.zero_grad()
            p.grad = scales * eps
            opt.step()
        finals.append(p.value.copy())
    return finals[0] - finals[1]


# ---------------------------------------------------------------- REG-06: dropout

def dropout_forward(x, p, rng, training=True):
    """Inverted dropout (Srivastava et al., 2014): returns ``(out, mask)``.

    Training: ``mask = (u ≥ p) / (1 − p)`` with ``u ~ U[0, 1)`` drawn by
    ``rng.random(x.shape)`` (the draw ``nn.Dropout`` makes), ``out = x · mask``;
    ``E[out] = x``. Evaluation (or ``p = 0``): ``out = x``, ``mask = None``.
    """
    p = check_unit_interval(p, "p")
    x = np.asarray(x, dtype=float)
    if not training or p == 0:
        return x, None
    mask = (as_rng(rng).random(x.shape) >= p) / (1.0 - p)
    return x * mask, mask


def dropout_backward(dout, mask):
    """``dx = dout · mask``: the same mask (and scale) as the forward pass; identity when ``mask`` is None."""
    dout = np.asarray(dout, dtype=float)
    return dout if mask is None else dout * mask


def dropout_moments(x, p, samples=20000, rng=0):
    """Mean and variance over ``samples`` dropout masks of ``dropout_forward(x)``, per entry.

    Theory: mean ``x`` (inverted scaling) and variance ``x² p / (1 − p)``.
    Returns ``(mean, var)``, each shaped like ``x``.
    """
    x = np.asarray(x, dtype=float)
    p = check_unit_interval(p, "p")
    keep = as_rng(rng).random((check_positive_int(samples, "samples"),) + x.shape) >= p
    outs = keep * (x / (1.0 - p))
    return outs.mean(axis=0), outs.var(axis=0)


# ---------------------------------------------------------------- REG-07: augmentation

def shift_images(X, shifts, image_shape=(8, 8)):
    """Translate each image by whole pixels, filling the uncovered border with 0.

    ``X (N, H·W)``, ``shifts (N, 2)`` ints ``(rows down, columns right)``; returns
    ``(N, H·W)``. Pixels shifted past the border are lost.
    """
    X = check_array(X, "X", ndim=2)
    shifts = np.asarray(shifts)
    h, w = image_shape
    if X.shape[1] != h * w:
        raise ValueError(f"X: expected {h * w} pixels per row for images {image_shape}, got {X.shape[1]}")
    if shifts.shape != (len(X), 2) or shifts.dtype.kind not in "iu":
        raise ValueError(f"shifts: expected ints of shape ({len(X)}, 2), got {shifts.dtype} {shifts.shape}")
    k = int(np.abs(shifts).max(initial=0))
    padded = np.pad(X.reshape(-1, h, w), ((0, 0), (k, k), (k, k)))
    rows = np.arange(h)[None, :] + k - shifts[:, :1]          # (N, h): source row of each output row
    cols = np.arange(w)[None, :] + k - shifts[:, 1:]          # (N, w)
    n = np.arange(len(X))[:, None, None]
    return padded[n, rows[:, :, None], cols[:, None, :]].reshape(len(X), h * w)


def flip_images(X, image_shape=(8, 8)):
    """Mirror each image left-right: ``(N, H·W)`` → ``(N, H·W)``. Not label-preserving for digits."""
    X = check_array(X, "X", ndim=2)
    return X.reshape(-1, *image_shape)[:, :, ::-1].reshape(len(X), -1)


def augment_digits(X, rng, max_shift=1, prob=0.5, noise=0.0):
    """Random label-preserving perturbations of digit images, fresh on every call.

    Each image, with probability ``prob``, is shifted by a random whole-pixel
    offset in ``{−max_shift … max_shift}²`` (which may be (0, 0)); then Gaussian
    noise of std ``noise`` is added to every pixel. No flips, no large rotations:
    they can turn one digit into another.
    """
    rng = as_rng(rng)
    X = check_array(X, "X", ndim=2)
    max_shift = check_positive_int(max_shift, "max_shift", allow_zero=True)
    prob = check_positive(prob, "prob", allow_zero=True)
    shifts = rng.integers(-max_shift, max_shift + 1, size=(len(X), 2))
    shifts[rng.random(len(X)) >= prob] = 0
    out = shift_images(X, shifts)
    noise = check_positive(noise, "noise", allow_zero=True)
    return out + noise * rng.standard_normal(out.shape) if noise else out


def train_digits(X, y, hidden=128, epochs=60, augment=None, lr=0.05, batch_size=32, rng=0) -> nn.Sequential:
    """A ``64-hidden-10`` ReLU network trained with SGD (momentum 0.9) on cross-entropy.

    ``augment(X, rng) -> X'`` (optional) makes a fresh perturbed copy of the
    training images at the start of every epoch. Returns the trained model.
    """
    rng = as_rng(rng)
    X = check_array(X, "X", ndim=2, finite=True)
    model = mlp((X.shape[1], check_positive_int(hidden, "hidden"), 10), rng=rng)
    loss, opt = L.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for _ in range(check_positive_int(epochs, "epochs")):
        X_epoch = augment(X, rng) if augment is not None else X
        for xb, yb in batches(X_epoch, y, batch_size, rng=rng):
            opt.zero_grad()
            loss.forward(model.forward(xb), yb)
            model.backward(loss.backward(), input_grad=False)
            opt.step()
    return model


def _stratified_subset(X, y, per_class, rng):
    rng = as_rng(rng)
    idx = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class] for c in np.unique(y)])
    idx = rng.permutation(idx)
    return X[idx], y[idx]


@functools.lru_cache(maxsize=1)
def displaced_validation():
    """The validation digits, each moved by exactly one pixel in one of the 8 directions (seed 123).

    A stand-in for a deployment where the digit cropper is off by a pixel.
    """
    ds = digits()
    directions = np.array([(r, c) for r in (-1, 0, 1) for c in (-1, 0, 1) if (r, c) != (0, 0)])
    shifts = directions[np.random.default_rng(123).integers(0, 8, len(ds.X_val))]
    return read_only(shift_images(ds.X_val, shifts))


@dataclass(frozen=True)
class AugmentationStudy:
    """Validation accuracy with and without augmentation, one entry per training seed.

    ``clean[k]`` and ``displaced[k]`` for ``k`` in ("plain", "augmented"), each ``(len(seeds),)``:
    accuracy on the validation digits as they are, and moved by one pixel.
    """

    n_train: int
    seeds: tuple
    clean: dict
    displaced: dict

    def mean(self, which, kind) -> float:
        return float(np.mean(getattr(self, which)[kind]))

    def std(self, which, kind) -> float:
        return float(np.std(getattr(self, which)[kind]))


def augmentation_study(per_class=20, seeds=(0, 1, 2), epochs=60, max_shift=1, prob=0.5) -> AugmentationStudy:
    """Train the same network on ``10·per_class`` digits with and without shift augmentation.

    The training subset is fixed (seed 0); each seed changes initialization,
    batch order and augmentation draws, identically for both arms. Cached.
    """
    return _augmentation_study(check_positive_int(per_class, "per_class"), tuple(int(s) for s in seeds),
                               check_positive_int(epochs, "epochs"),
                               check_positive_int(max_shift, "max_shift"), check_positive(prob, "prob"))


@functools.lru_cache(maxsize=8)
@single_blas_thread
def _augmentation_study(per_class, seeds, epochs, max_shift, prob):
    ds = digits()
    X, y = _stratified_subset(ds.X_train, ds.y_train, per_class, rng=0)
    displaced = displaced_validation()
    clean, moved = {"plain": [], "augmented": []}, {"plain": [], "augmented": []}
    augment = functools.partial(augment_digits, max_shift=max_shift, prob=prob)
    for seed in seeds:
        for kind, aug in (("plain", None), ("augmented", lambda X, rng: augment(X, rng))):
            model = train_digits(X, y, epochs=epochs, augment=aug, rng=seed)
            clean[kind].append(accuracy(predict(model, ds.X_val), ds.y_val))
            moved[kind].append(accuracy(predict(model, displaced), ds.y_val))
    return AugmentationStudy(len(X), seeds, {k: read_only(np.array(v)) for k, v in clean.items()},
                             {k: read_only(np.array(v)) for k, v in moved.items()})


# ---------------------------------------------------------------- REG-08: early stopping

def should_stop(val_losses, patience) -> bool:
    """True when the best (lowest) validation loss is at least ``patience`` epochs old.

    An epoch improves only if its loss is strictly below every earlier one; a loss
    that merely stalls or bounces without beating the best counts against the
    patience. Same rule as :class:`gdcourse.regularization.EarlyStopping` with
    ``min_delta=0``. An empty list never stops.
    """
    patience = check_positive_int(patience, "patience")
    losses = np.asarray(val_losses, dtype=float)
    if losses.size == 0:
        return False
    epochs_since_best = len(losses) - 1 - int(np.argmin(losses))  # argmin: first occurrence of the minimum
    return epochs_since_best >= patience


# ---------------------------------------------------------------- REG-09: validation below training loss

@dataclass(frozen=True)
class LossGapRun:
    """Per epoch: ``reported`` (History's train_loss: mean of step losses, dropout on),
    ``train_mode`` (the whole training set at the end of the epoch, dropout still on),
    ``train_eval`` (the same in evaluation mode) and ``val`` (validation loss at the end
    of the epoch). ``step_loss`` per step; ``steps_per_epoch``.

    ``reported − train_mode`` is the lag of averaging over the epoch,
    ``train_mode − train_eval`` the cost of dropout, ``val − train_eval`` the true
    generalization gap."""

    dropout: float
    reported: np.ndarray
    train_mode: np.ndarray
    train_eval: np.ndarray
    val: np.ndarray
    step_loss: np.ndarray
    steps_per_epoch: int


@single_blas_thread
def loss_gap_run(dropout=0.5, epochs=8, hidden=256, lr=0.01, rng=0) -> LossGapRun:
    """Train a 64-hidden-10 network on all 988 training digits and log the three losses per epoch."""
    ds = digits()
    rng = as_rng(rng)
    model = mlp((64, check_positive_int(hidden, "hidden"), 10), dropout=dropout, rng=rng)
    loss = L.CrossEntropyLoss()
    train_mode, train_eval = [], []

    def log_train_losses(epoch, history, model):
        train_mode.append(loss.forward(model.forward(ds.X_train), ds.y_train))   # fit keeps train() mode
        train_eval.append(evaluate(model, loss, ds.X_train, ds.y_train)["loss"])

    history = fit(model, loss, optim.SGD(model.parameters(), lr=lr, momentum=0.9), (ds.X_train, ds.y_train),
                  epochs=epochs, batch_size=32, val=(ds.X_val, ds.y_val), callbacks=[log_train_losses],
                  progress=False, rng=rng)
    return LossGapRun(dropout, history["train_loss"], np.array(train_mode), np.array(train_eval),
                      history["val_loss"],
                      history["step_loss"], len(history.step_loss) // history.num_epochs)


# ---------------------------------------------------------------- REG-10: pruning

def magnitude_masks(weights, fraction):
    """Global magnitude pruning: keep-masks that zero the ``round(fraction · n)`` smallest ``|w|``.

    ``weights`` a list of arrays (the weight matrices; biases are not pruned);
    one threshold across all of them (Han et al., 2015). Ties are broken by
    position, so exactly that many entries are pruned. Returns bool masks.
    """
    return _masks_from_order(weights, fraction, lambda flat: np.argsort(np.abs(flat), kind="stable"))


def random_masks(weights, fraction, rng=0):
    """Keep-masks that zero ``round(fraction · n)`` entries chosen uniformly at random (the baseline)."""
    rng = as_rng(rng)
    return _masks_from_order(weights, fraction, lambda flat: rng.permutation(flat.size))


def _masks_from_order(weights, fraction, order_of):
    fraction = float(fraction)
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction: expected a number in [0, 1], got {fraction}")
    weights = [np.asarray(w) for w in weights]
    flat = np.concatenate([w.ravel() for w in weights])
    keep = np.ones(flat.size, dtype=bool)
    keep[order_of(flat)[: int(round(fraction * flat.size))]] = False
    masks, start = [], 0
    for w in weights:
        masks.append(keep[start:start + w.size].reshape(w.shape))
        start += w.size
    return masks


@functools.lru_cache(maxsize=4)
@single_blas_thread
def _dense_digits_state(hidden, epochs, seed):
    ds = digits()
    model = mlp((64, hidden, 10), rng=seed)
    fit(model, L.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
        (ds.X_train, ds.y_train), epochs=epochs, batch_size=32, progress=False, rng=seed)
    return tuple(read_only(p.value.copy()) for p in model.parameters())


def dense_digits_model(hidden=128, epochs=20, rng=0) -> nn.Sequential:
    """A fresh copy of a trained 64-hidden-10 digits network (training is cached per setting)."""
    hidden, epochs = check_positive_int(hidden, "hidden"), check_positive_int(epochs, "epochs")
    seed = int(rng) if _cacheable(rng) else 0
    model = mlp((64, hidden, 10), rng=seed)
    for p, value in zip(model.parameters(), _dense_digits_state(hidden, epochs, seed), strict=True):
        p.value = value
    return model


def _finetune(model, masks, epochs, rng):
    ds = digits()
    weights = _weight_params(model)
    loss, opt = L.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    for _ in range(epochs):
        for xb, yb in batches(ds.X_train, ds.y_train, 32, rng=rng):
            opt.zero_grad()
            loss.forward(model.forward(xb), yb)
            model.backward(loss.backward(), input_grad=False)
            for p, keep in zip(weights, masks, strict=True):
                p.grad *= keep           # pruned weights get no update...
            opt.step()
            for p, keep in zip(weights, masks, strict=True):
                p.value *= keep          # ...and momentum cannot revive them


@dataclass(frozen=True)
class PruningCurve:
    """Validation accuracy against the fraction of weights removed.

    ``fractions (K,)``; ``magnitude`` (prune smallest |w|, no retraining),
    ``finetuned`` (the same masks, then ``finetune_epochs`` epochs with the mask
    fixed), ``random`` (random masks, no retraining): each ``(K,)``. ``dense`` is the
    unpruned accuracy.
    """

    fractions: np.ndarray
    magnitude: np.ndarray
    finetuned: np.ndarray
    random: np.ndarray
    dense: float
    finetune_epochs: int


@single_blas_thread
def pruning_curve(fractions=(0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98), finetune_epochs=3, rng=0) -> PruningCurve:
    """Prune the trained digits network at each fraction (globally, weights only) and evaluate."""
    ds = digits()
    fractions = np.asarray(fractions, dtype=float)
    finetune_epochs = check_positive_int(finetune_epochs, "finetune_epochs")
    rng = as_rng(rng)
    results = {"magnitude": [], "finetuned": [], "random": []}
    dense = accuracy(predict(dense_digits_model(), ds.X_val), ds.y_val)
    for fraction in fractions:
        for kind in ("magnitude", "random"):
            model = dense_digits_model()
            weights = _weight_params(model)
            values = [p.value for p in weights]
            if kind == "magnitude":
                masks = magnitude_masks(values, fraction)
            else:
                masks = random_masks(values, fraction, rng)
            for p, keep in zip(weights, masks, strict=True):
                p.value *= keep
            results[kind].append(accuracy(predict(model, ds.X_val), ds.y_val))
            if kind == "magnitude":
                _finetune(model, masks, finetune_epochs, rng)
                results["finetuned"].append(accuracy(predict(model, ds.X_val), ds.y_val))
    curves = (np.array(results[k]) for k in ("magnitude", "finetuned", "random"))
    return PruningCurve(fractions, *curves, dense, finetune_epochs)


# ---------------------------------------------------------------- REG-11: distillation

def soft_term_gradient_norms(temperatures, n=64, classes=10, rng=0):
    """Norm of ``∂ KL(p_t^T ‖ p_s^T)/∂z_s``, without and with the ``T²`` factor, for random logits.

    Returns ``(plain (K,), scaled (K,))``: ``plain`` falls like ``1/T²`` for large T,
    ``scaled = T² · plain`` levels off.
    """
    rng = as_rng(rng)
    zs, zt = 2.0 * rng.standard_normal((n, classes)), 2.0 * rng.standard_normal((n, classes))
    labels = np.zeros(n, dtype=np.int64)
    plain = []
    for T in temperatures:
        _, grad = distillation_loss(zs, zt, labels, T, alpha=1.0)
        plain.append(np.linalg.norm(grad) / T**2)   # alpha=1 gradient includes T²; undo it
    plain = np.array(plain)
    return plain, plain * np.asarray(temperatures, dtype=float) ** 2


@functools.lru_cache(maxsize=2)
@single_blas_thread
def _teacher_state(seed):
    ds = digits()
    model = mlp((64, 256, 10), rng=seed)
    fit(model, L.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
        (ds.X_train, ds.y_train), epochs=20, batch_size=32, progress=False, rng=seed)
    return tuple(read_only(p.value.copy()) for p in model.parameters())


def teacher_model(rng=0) -> nn.Sequential:
    """The teacher: a 64-256-10 network trained 20 epochs on all 988 training digits (cached)."""
    seed = int(rng) if _cacheable(rng) else 0
    model = mlp((64, 256, 10), rng=seed)
    for p, value in zip(model.parameters(), _teacher_state(seed), strict=True):
        p.value = value
    return model


def train_student(X, y, teacher_logits=None, hidden=16, temperature=4.0, alpha=0.9, epochs=30, lr=0.05,
                  batch_size=64, rng=0) -> nn.Sequential:
    """A 64-hidden-10 student trained on hard labels (``teacher_logits=None``) or by distillation.

    Same initialization, batch order and optimizer (SGD, momentum 0.9) for both,
    so the only difference is the target.
    """
    rng = as_rng(rng)
    X = check_array(X, "X", ndim=2, finite=True)
    student = mlp((X.shape[1], check_positive_int(hidden, "hidden"), 10), rng=rng)
    opt, ce = optim.SGD(student.parameters(), lr=lr, momentum=0.9), L.CrossEntropyLoss()
    for _ in range(check_positive_int(epochs, "epochs")):
        for batch in batch_indices(len(X), batch_size, rng=rng):
            opt.zero_grad()
            logits = student.forward(X[batch])
            if teacher_logits is None:
                ce.forward(logits, y[batch])
                grad = ce.backward()
            else:
                _, grad = distillation_loss(logits, teacher_logits[batch], y[batch], temperature, alpha)
            student.backward(grad, input_grad=False)
            opt.step()
    return student


@dataclass(frozen=True)
class DistillationStudy:
    """Validation accuracy of the small student, per training-set size and seed.

    ``accuracy[(n, "hard labels" | "distilled")] (len(seeds),)``; ``teacher`` the
    teacher's validation accuracy; ``temperature``, ``alpha`` the distillation settings.
    """

    sizes: tuple
    seeds: tuple
    accuracy: dict
    teacher: float
    temperature: float
    alpha: float
    hidden: int

    def mean(self, n, kind) -> float:
        return float(np.mean(self.accuracy[(n, kind)]))


def distillation_study(sizes=(200, 988), seeds=(0, 1, 2), hidden=16, temperature=4.0,
                       alpha=0.9) -> DistillationStudy:
    """The same small student, trained on hard labels or on the teacher's soft targets.

    For each size n the student sees the same n training digits (a fixed random
    subset; 988 = all of them) in both arms, for ``max(40, 20000/n)`` epochs of
    batches of 64 (SGD, lr 0.1, momentum 0.9); the teacher was trained on all 988.
    Cached.
    """
    return _distillation_study(tuple(int(n) for n in sizes), tuple(int(s) for s in seeds),
                               check_positive_int(hidden, "hidden"),
                               check_positive(temperature, "temperature"), float(alpha))


def _student_epochs(n):
    return int(round(max(40.0, 20000.0 / n)))


@functools.lru_cache(maxsize=4)
@single_blas_thread
def _distillation_study(sizes, seeds, hidden, temperature, alpha):
    ds = digits()
    teacher = teacher_model()
    order = np.random.default_rng(0).permutation(len(ds.X_train))
    acc = {}
    for n in sizes:
        X, y = ds.X_train[order[:n]], ds.y_train[order[:n]]
        soft = predict(teacher, X)
        for kind, targets in (("hard labels", None), ("distilled", soft)):
            students = [train_student(X, y, targets, hidden, temperature, alpha, _student_epochs(n), lr=0.1,
                                      rng=s) for s in seeds]
            acc[(n, kind)] = read_only(np.array([accuracy(predict(m, ds.X_val), ds.y_val) for m in students]))
    teacher_acc = accuracy(predict(teacher, ds.X_val), ds.y_val)
    return DistillationStudy(sizes, seeds, acc, teacher_acc, temperature, alpha, hidden)


# ---------------------------------------------------------------- REG-12: memorization

def one_step_checkpoints(X, labels, lr=0.1, rng=0):
    """Two checkpoints of a ``Linear(d, 10)`` softmax classifier one SGD step apart.

    ``X (B, d)`` the batch of that step (B = 1 for a single example), ``labels (B,)``.
    Returns ``(W_before, b_before, W_after, b_after)``.
    """
    X = check_array(X, "X", ndim=2, finite=True)
    labels = check_labels(labels, "labels", 10)
    check_same_length(X, labels, "X", "labels")
    layer = nn.Linear(X.shape[1], 10, init="xavier_normal", rng=rng)
    before = (layer.weight.value.copy(), layer.bias.value.copy())
    loss, opt = L.CrossEntropyLoss(), optim.SGD(layer.parameters(), lr=check_positive(lr, "lr"))
    opt.zero_grad()
    loss.forward(layer.forward(X), labels)
    layer.backward(loss.backward(), input_grad=False)
    opt.step()
    return before[0], before[1], layer.weight.value.copy(), layer.bias.value.copy()


def reconstruct_input(W_before, b_before, W_after, b_after):
    """Recover the input of a one-example step: ``x = ΔW[:, j] / Δb[j]``.

    ``ΔW = −η x δᵀ`` and ``Δb = −η δ`` for a layer ``y = xW + b`` (``W (d, k)``), so
    any output ``j`` with ``Δb[j] ≠ 0`` gives ``x`` exactly, whatever the loss and
    the learning rate. Uses the ``j`` with the largest ``|Δb[j]|``. For a batch of B
    examples the same ratio gives ``Σ_i δ_ij x_i / Σ_i δ_ij``, a weighted blend of
    the inputs, not any one of them. Returns ``(d,)``.
    """
    dW = np.asarray(W_after, dtype=float) - np.asarray(W_before, dtype=float)
    db = np.asarray(b_after, dtype=float) - np.asarray(b_before, dtype=float)
    j = int(np.argmax(np.abs(db)))
    if db[j] == 0:
        raise ValueError("b_after: the bias did not change, so the step carries no recoverable input")
    return dW[:, j] / db[j]


@dataclass(frozen=True)
class MembershipStudy:
    """Per-example losses of training members and of unseen digits, for two models.

    ``losses[model] = (members (M,), non_members (M,))`` and ``auc[model]`` the
    ROC AUC of the attack "a low loss means member" (0.5 = no better than chance).
    """

    losses: dict
    auc: dict
    accuracy_gap: dict


def _per_example_ce(model, X, y):
    log_p = F.log_softmax(predict(model, X), axis=1)
    return -log_p[np.arange(len(y)), y]


def membership_study(n_members=50, rng=0) -> MembershipStudy:
    """A loss-threshold membership attack (Yeom et al., 2018) on an overfit and a well-fit model.

    "memorizing": a 64-256-10 network trained 300 epochs on ``n_members`` digits
    only; "well regularized": the same architecture trained 20 epochs on all 988
    digits with weight decay (its members are the same ``n_members`` digits, now
    part of a large training set). Non-members are ``n_members`` validation digits.
    Cached for int seeds.
    """
    return _membership_study(check_positive_int(n_members, "n_members"), int(rng) if _cacheable(rng) else 0)


@functools.lru_cache(maxsize=2)
@single_blas_thread
def _membership_study(n_members, seed):
    ds = digits()
    order = np.random.default_rng(seed).permutation(len(ds.X_train))
    members = order[:n_members]
    X_in, y_in = ds.X_train[members], ds.y_train[members]
    X_out, y_out = ds.X_val[:n_members], ds.y_val[:n_members]
    loss = L.CrossEntropyLoss()
    memorizer = mlp((64, 256, 10), rng=seed)
    fit(memorizer, loss, optim.SGD(memorizer.parameters(), lr=0.05, momentum=0.9), (X_in, y_in), epochs=300,
        batch_size=32, progress=False, rng=seed)
    regular = mlp((64, 256, 10), rng=seed)
    fit(regular, loss, optim.AdamW(regular.parameters(), lr=0.003, weight_decay=0.5),
        (ds.X_train, ds.y_train), epochs=20, batch_size=32, progress=False, rng=seed)
    losses, auc, gap = {}, {}, {}
    for name, model in (("memorizing", memorizer), ("well regularized", regular)):
        inside, outside = _per_example_ce(model, X_in, y_in), _per_example_ce(model, X_out, y_out)
        losses[name] = read_only(inside, outside)
        auc[name] = roc_auc(-inside, -outside)
        gap[name] = accuracy(predict(model, X_in), y_in) - accuracy(predict(model, X_out), y_out)
    return MembershipStudy(losses, auc, gap)


# ---------------------------------------------------------------- REG-13: hyperparameter search

SEARCH_RANGES = {"lr": (-2.0, 1.5), "weight_decay": (-6.0, -3.0)}
"""log10 ranges searched in REG-13: the learning rate matters a lot, the (tiny) weight decay hardly."""


def softmax_regression_scores(lrs, weight_decays, X, y, X_val, y_val, steps=60):
    """Validation cross-entropy of softmax regression trained by full-batch GD, one model per pair.

    All ``K = len(lrs)`` models train at once (a batch of ``(K, d, C)`` weights):
    ``W ← W − η_k (Xᵀ(P − Y)/N + λ_k W)``, ``b ← b − η_k mean(P − Y)``, from zeros.
    A diverged model scores ``inf``. Returns ``(K,)``.
    """
    X = check_array(X, "X", ndim=2, finite=True)
    y = check_labels(y, "y", 10)
    lrs = np.asarray(lrs, dtype=float)[:, None, None]
    wds = np.asarray(weight_decays, dtype=float)[:, None, None]
    if lrs.shape != wds.shape:
        raise ValueError(f"weight_decays: expected {len(lrs)} values like lrs, got {len(wds)}")
    Y = np.eye(10)[y]
    W, b = np.zeros((len(lrs), X.shape[1], 10)), np.zeros((len(lrs), 1, 10))
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(check_positive_int(steps, "steps")):
            G = (F.softmax(X @ W + b, axis=2) - Y) / len(X)
            W -= lrs * (np.matmul(X.T, G) + wds * W)
            b -= lrs * G.sum(axis=1, keepdims=True)
        log_p = F.log_softmax(X_val @ W + b, axis=2)
        scores = -log_p[:, np.arange(len(y_val)), y_val].mean(axis=1)
    return np.where(np.isfinite(scores), scores, np.inf)


def grid_points(budget=9, ranges=None):
    """A ``k × k`` grid (``k = √budget``) over the log10 ranges: ``(budget, 2)`` log10 values."""
    ranges = SEARCH_RANGES if ranges is None else ranges
    k = math.isqrt(check_positive_int(budget, "budget"))
    if k * k != budget:
        raise ValueError(f"budget: expected a perfect square for a square grid, got {budget}")
    axes = [np.linspace(*ranges[name], k) for name in ("lr", "weight_decay")]
    a, b = np.meshgrid(*axes, indexing="ij")
    return np.column_stack([a.ravel(), b.ravel()])


def random_points(budget=9, ranges=None, rng=0):
    """``budget`` points drawn uniformly in log10 space: ``(budget, 2)``."""
    ranges = SEARCH_RANGES if ranges is None else ranges
    rng = as_rng(rng)
    lows = np.array([ranges["lr"][0], ranges["weight_decay"][0]])
    highs = np.array([ranges["lr"][1], ranges["weight_decay"][1]])
    return lows + (highs - lows) * rng.random((check_positive_int(budget, "budget"), 2))


@dataclass(frozen=True)
class SearchStudy:
    """Grid vs random search with the same budget.

    ``grid (B, 2)`` and ``grid_scores (B,)``; ``random[s] (B, 2)`` and
    ``random_scores[s] (B,)`` for each seed ``s``; ``curve_lr (P,)``, ``curve (P,)``:
    the score against log10 lr at the middle weight decay (how much lr matters), and
    ``wd_effect``: the largest change of the score across the weight-decay range at
    the best lr (how little it matters).
    """

    grid: np.ndarray
    grid_scores: np.ndarray
    random: tuple
    random_scores: tuple
    curve_lr: np.ndarray
    curve: np.ndarray
    wd_effect: float

    @property
    def grid_best(self) -> float:
        return float(np.min(self.grid_scores))

    @property
    def random_best(self) -> np.ndarray:
        return np.array([np.min(s) for s in self.random_scores])


@functools.lru_cache(maxsize=1)
def _search_data():
    ds = digits()
    X, y = _stratified_subset(ds.X_train, ds.y_train, 30, rng=0)
    return X, y, ds.X_val, ds.y_val


def search_study(budget=9, seeds=(0, 1, 2, 3, 4), steps=60) -> SearchStudy:
    """Score a ``√B × √B`` grid and ``B`` random trials per seed (softmax regression, 300 digits). Cached."""
    return _search_study(check_positive_int(budget, "budget"), tuple(int(s) for s in seeds),
                         check_positive_int(steps, "steps"))


@functools.lru_cache(maxsize=2)
@single_blas_thread
def _search_study(budget, seeds, steps):
    data = _search_data()

    def score(points):
        lrs, wds = 10.0 ** points[:, 0], 10.0 ** points[:, 1]
        return read_only(softmax_regression_scores(lrs, wds, *data, steps=steps))

    grid = grid_points(budget)
    randoms = tuple(read_only(random_points(budget, rng=s)) for s in seeds)
    curve_lr = np.linspace(*SEARCH_RANGES["lr"], 36)
    mid_wd = np.mean(SEARCH_RANGES["weight_decay"])
    curve = score(np.column_stack([curve_lr, np.full_like(curve_lr, mid_wd)]))
    best_lr = curve_lr[np.argmin(curve)]
    wds = np.linspace(*SEARCH_RANGES["weight_decay"], 7)
    across_wd = score(np.column_stack([np.full_like(wds, best_lr), wds]))
    return SearchStudy(read_only(grid), score(grid), randoms, tuple(score(p) for p in randoms),
                       read_only(curve_lr), curve, float(across_wd.max() - across_wd.min()))


# ---------------------------------------------------------------- the L1/L2 strength explorer

PENALTY_STRENGTHS = 10.0 ** (np.arange(-40, -9) / 10.0)
"""The strengths the explorer offers: 10^-4, 10^-3.9, …, 10^-1 (31 values)."""
read_only(PENALTY_STRENGTHS)


def snap_strength(strength) -> float:
    """The grid value of :data:`PENALTY_STRENGTHS` nearest to ``strength`` in log scale.

    Raises if ``strength`` is more than half a grid step outside the grid.
    """
    strength = check_positive(strength, "strength")
    exponents = np.log10(PENALTY_STRENGTHS)
    e = math.log10(strength)
    if e < exponents[0] - 0.05 or e > exponents[-1] + 0.05:
        raise ValueError(f"strength: expected a value between 1e-4 and 1e-1 (the explorer's range), "
                         f"got {strength:g}")
    return float(PENALTY_STRENGTHS[int(np.argmin(np.abs(exponents - e)))])


@dataclass(frozen=True)
class PenaltyRun:
    """A 2-32-32-2 network trained on moons with an L1 or L2 penalty on its weight matrices.

    ``weights``: the three weight matrices; ``first_layer (2, 32)`` the first one
    (each column is one hidden unit's input weights); ``zero_fractions (3,)``
    exact-zero share per matrix; ``train_accuracy``, ``val_accuracy``;
    ``data_loss`` the final training cross-entropy; ``boundary (60, 60)`` the
    class-1 probability on :func:`boundary_grid`; ``X, y`` the training points.
    """

    penalty: str
    strength: float
    weights: tuple
    zero_fractions: np.ndarray
    train_accuracy: float
    val_accuracy: float
    data_loss: float
    boundary: np.ndarray
    X: np.ndarray
    y: np.ndarray

    @property
    def first_layer(self) -> np.ndarray:
        return self.weights[0]

    @property
    def first_layer_zero_fraction(self) -> float:
        return float(self.zero_fractions[0])


@functools.lru_cache(maxsize=1)
def _penalty_data():
    X, y = make_moons(200, noise=0.2, rng=0)
    X_val, y_val = make_moons(300, noise=0.2, rng=5)
    return read_only(X, y, X_val, y_val)


def penalty_run(penalty="l1", strength=1e-3, steps=1000, lr=0.5, rng=0) -> PenaltyRun:
    """Train on moons with full-batch gradient descent and an L1 or L2 penalty (the explorer's ``compute``).

    L2: the gradient ``λW`` is added (with plain GD that is exactly weight decay).
    L1: a proximal step, ``W ← soft_threshold(W − η∇L, ηλ)`` after every update
    (ISTA), which produces exact zeros. ``strength`` is snapped to
    :data:`PENALTY_STRENGTHS`; results are cached per setting for int seeds.
    """
    if penalty not in ("l1", "l2"):
        raise ValueError(f"penalty: expected 'l1' or 'l2', got {penalty!r}")
    strength = snap_strength(strength)
    steps, lr = check_positive_int(steps, "steps"), check_positive(lr, "lr")
    if _cacheable(rng):
        return _penalty_run_cached(penalty, strength, steps, lr, int(rng))
    return _penalty_run(penalty, strength, steps, lr, rng)


@functools.lru_cache(maxsize=128)
def _penalty_run_cached(penalty, strength, steps, lr, seed):
    return _penalty_run(penalty, strength, steps, lr, seed)


@single_blas_thread
def _penalty_run(penalty, strength, steps, lr, rng):
    X, y, X_val, y_val = _penalty_data()
    model = mlp((2, 32, 32, 2), rng=rng)
    weights = _weight_params(model)
    loss, opt = L.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss.forward(model.forward(X), y)
        model.backward(loss.backward(), input_grad=False)
        if penalty == "l2":
            R.add_l2_grad(weights, strength)
        opt.step()
        if penalty == "l1":
            for p in weights:
                p.value = soft_threshold(p.value, lr * strength)
    xx, _, points = boundary_grid()
    values = tuple(read_only(p.value.copy()) for p in weights)
    return PenaltyRun(penalty, strength, values, read_only(np.array([zero_fraction(w) for w in values])),
                      accuracy(predict(model, X), y), accuracy(predict(model, X_val), y_val),
                      float(loss.forward(predict(model, X), y)),
                      read_only(_class1_probability(model, points, xx.shape)), X, y)


def sparsity_threshold(fraction=0.5, rng=0) -> float:
    """The smallest grid strength at which at least ``fraction`` of the first-layer weights are exactly zero.

    Bisection over :data:`PENALTY_STRENGTHS` with the L1 penalty; it relies on the
    zero fraction growing with the strength, which ``tests/test_nb07_claims.py``
    checks over the whole grid for seed 0.
    """
    fraction = float(fraction)
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction: expected a number in (0, 1], got {fraction}")

    def sparse_enough(i):
        return penalty_run("l1", PENALTY_STRENGTHS[i], rng=rng).first_layer_zero_fraction >= fraction

    low, high = 0, len(PENALTY_STRENGTHS) - 1
    if not sparse_enough(high):
        raise ValueError(f"fraction: even the largest strength leaves fewer than {fraction:.0%} exact zeros")
    while low < high:
        mid = (low + high) // 2
        if sparse_enough(mid):
            high = mid
        else:
            low = mid + 1
    return float(PENALTY_STRENGTHS[low])
