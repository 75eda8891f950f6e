"""Checks of notebook 04 (backpropagation and gradient flow).

``two_layer_backward``: the learner's backward pass of ``out = σ(x W1 + b1) W2 + b2``;
``sigmoid_vanishing_depth``: the depth found with the depth explorer;
``relative_error``: the learner's gradient-check error measure. Each compares with
:mod:`gdcourse.experiments.backprop` / :mod:`gdcourse.gradcheck` and names the likely mistake.
"""

from __future__ import annotations

import math

import numpy as np

from gdcourse import gradcheck
from gdcourse.check.core import Mismatch, answer, call, exercise, expect, is_whole_number, show
from gdcourse.experiments import backprop as E
from gdcourse.functional import sigmoid

__all__ = ["two_layer_backward", "sigmoid_vanishing_depth", "relative_error"]

_GRADIENTS = ("dx", "dW1", "db1", "dW2", "db2")
_BACKWARD_ORDER = ("dW2", "db2", "dW1", "db1", "dx")  # report the first mistake the backward pass makes


# ---------------------------------------------------------------- two_layer_backward

def _two_layer_cases():
    """``(describe, (x, W1, b1, W2, b2, dout))``: a general case, a square one (a transpose keeps the
    shape there) and N = 1."""
    rng = np.random.default_rng(404)
    cases = []
    for n, d, h, c in ((5, 3, 4, 2), (6, 4, 4, 4), (1, 2, 3, 1)):
        arrays = (rng.standard_normal((n, d)), rng.standard_normal((d, h)), rng.standard_normal(h),
                  rng.standard_normal((h, c)), rng.standard_normal(c), rng.standard_normal((n, c)))
        describe = f"x ({n}, {d}), W1 ({d}, {h}), W2 ({h}, {c}) and a random dout ({n}, {c})"
        cases.append((describe, arrays))
    return cases


def _gradients(x, W1, W2, h, dh, dz1, dout):
    """All five gradients from given intermediate quantities (used to build the wrong variants)."""
    return {"dx": dz1 @ W1.T, "dW1": x.T @ dz1, "db1": dz1.sum(axis=0), "dW2": h.T @ dout,
            "db2": dout.sum(axis=0)}


def _wrong_variants(x, W1, b1, W2, b2, dout):
    """``[(gradients of one plausible mistake, hint)]``."""
    z1 = x @ W1 + b1
    h = sigmoid(z1)
    dh = dout @ W2.T
    right = _gradients(x, W1, W2, h, dh, dh * h * (1 - h), dout)
    n = len(x)
    variants = [
        (_gradients(x, W1, W2, h, dh, dh, dout),
         "you forgot the activation's derivative: dz1 = dh * σ'(z1) = dh * h * (1 - h), where "
         "h = σ(x W1 + b1)."),
        (_gradients(x, W1, W2, h, dh, dh * z1 * (1 - z1), dout),
         "σ'(z1) is h * (1 - h) with h = σ(z1); you used z1 * (1 - z1), the formula applied to the "
         "pre-activation."),
        (_gradients(x, W1, W2, h, dh, dh * h, dout),
         "you multiplied by σ(z1) = h instead of σ'(z1) = h * (1 - h)."),
        ({**right, "dW2": z1.T @ dout},
         "dW2 = hᵀ dout uses the second layer's input h = σ(z1), not the pre-activation z1."),
        ({**right, "db1": right["db1"] / n, "db2": right["db2"] / n},
         f"your bias gradient is N = {n} times too small: sum over the batch (axis=0), do not average; "
         "the 1/N of a mean loss is already inside dout."),
        ({**right, "dW1": right["dW1"].T, "dW2": right["dW2"].T},
         "your weight gradient is transposed: dW = inputᵀ @ upstream (dW1 = x.T @ dz1, dW2 = h.T @ dout) has "
         "the weight's shape (in, out)."),
        ({**right, "dx": (dh * h * (1 - h)) @ W1} if W1.shape[0] == W1.shape[1] else right,
         "dx = dz1 @ W1.T: going back through x @ W1 multiplies by W1 transposed."),
    ]
    if W2.shape[0] == W2.shape[1]:
        dh_wrong = dout @ W2
        variants.append((_gradients(x, W1, W2, h, dh_wrong, dh_wrong * h * (1 - h), dout),
                         "dh = dout @ W2.T: going back through h @ W2 multiplies by W2 transposed."))
    return variants


def _unpack_gradients(got, describe):
    if got is None:
        raise Mismatch(f"on {describe} your function returned None: return (dx, dW1, db1, dW2, db2).")
    if not isinstance(got, (tuple, list)) or len(got) != 5:
        size = len(got) if isinstance(got, (tuple, list)) else type(got).__name__
        raise Mismatch(f"on {describe} you returned {size}; return five arrays in this order: "
                       "(dx, dW1, db1, dW2, db2).")
    arrays = {}
    for name, value in zip(_GRADIENTS, got, strict=True):
        try:
            arrays[name] = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise Mismatch(f"on {describe} {name} is a {type(value).__name__}, not an array") from None
    return arrays


def _shape_problem(name, got, want, n):
    if got.shape == want.shape:
        return None
    if name.startswith("db") and got.shape == (n, *want.shape):
        upstream = "dout" if name == "db2" else "dz1"
        return (f"{name} has shape {got.shape}, one row per sample: the bias is added to every row, so its "
                f"gradient sums over the batch, {name} = {upstream}.sum(axis=0), shape {want.shape}.")
    if got.ndim == 2 and got.shape == want.T.shape:
        hint = {"dx": "dx = dz1 @ W1.T", "dW1": "dW1 = x.T @ dz1", "dW2": "dW2 = h.T @ dout"}.get(name, "")
        return (f"{name} has shape {got.shape}, the transpose of {want.shape}: a gradient has the shape of "
                f"its variable. {hint}".rstrip())
    return f"{name} has shape {got.shape}, expected {want.shape} (the shape of {name[1:]})."


def _diagnose(arrays, want, case):
    describe, (x, W1, b1, W2, b2, dout) = case
    for name in _BACKWARD_ORDER:
        problem = _shape_problem(name, arrays[name], want[name], len(x))
        if problem:
            raise Mismatch(f"on {describe}: {problem}")
    for name in _BACKWARD_ORDER:
        if np.allclose(arrays[name], want[name], rtol=1e-6, atol=1e-9):
            continue
        for variant, hint in _wrong_variants(x, W1, b1, W2, b2, dout):
            if np.allclose(arrays[name], variant[name], rtol=1e-6, atol=1e-9):
                raise Mismatch(f"on {describe} {name} is wrong: {hint}")
        raise Mismatch(f"on {describe} {name} is {show(arrays[name])}, expected {show(want[name])}. Go "
                       "back one step at a time: dW2, db2 from dout; dh = dout @ W2.T; "
                       "dz1 = dh * h * (1 - h); then dW1, db1, dx from dz1.")


def _central_difference_error(arrays, case):
    """Worst relative error of the learner's parameter gradients vs central differences of sum(out * dout)."""
    _, (x, W1, b1, W2, b2, dout) = case
    params = {"W1": W1.copy(), "b1": b1.copy(), "W2": W2.copy(), "b2": b2.copy()}

    def f(_):
        return float(np.sum(E.two_layer_forward(x, **params)[0] * dout))

    return max(gradcheck.relative_error(arrays["d" + k], gradcheck.numerical_gradient(f, v))
               for k, v in params.items())


@exercise("two_layer_backward")
def two_layer_backward(fn):
    """Check ``fn(x, W1, b1, W2, b2, dout) -> (dx, dW1, db1, dW2, db2)`` against the package."""
    cases = _two_layer_cases()
    for case in cases:
        describe, args = case
        arrays = _unpack_gradients(call(fn, *args, describe=describe), describe)
        want = dict(zip(_GRADIENTS, E.two_layer_backward(*args), strict=True))
        _diagnose(arrays, want, case)
    first = cases[0]
    error = _central_difference_error(_unpack_gradients(call(fn, *first[1]), first[0]), first)
    return (f"all five gradients match the package on {len(cases)} cases (including N = 1 and a square "
            "network where a transpose keeps the shape); against central differences your parameter "
            f"gradients agree to a relative error of {error:.1e}.")


# ---------------------------------------------------------------- sigmoid_vanishing_depth

@exercise("sigmoid_vanishing_depth")
def sigmoid_vanishing_depth(value, threshold=1e-6):
    """Is ``value`` the smallest depth where the explorer's sigmoid/Xavier ratio first/last is < threshold?"""
    value = answer(value)
    expect(is_whole_number(value),
           f"enter the number of hidden layers as a whole number, e.g. depth = 7; got {value!r}")
    depth = int(value)
    expect(1 <= depth <= 50, f"the explorer goes from 1 to 50 hidden layers; got {depth}")
    truth = E.vanishing_depth("sigmoid", "xavier", threshold)
    ratio = E.depth_gradient_profile("sigmoid", "xavier", depth).ratio
    if depth == truth:
        return (f"at {depth} hidden layers the first layer's gradient is {ratio:.1e} times the output "
                f"layer's, below {threshold:g}; with one layer less it is still above. About 4-5× is lost "
                "per sigmoid layer (σ' ≤ 1/4).")
    if depth < truth:
        raise Mismatch(f"at {depth} hidden layers the first layer's gradient is still {ratio:.1e} times the "
                       f"last layer's, not below {threshold:g}: add layers.")
    if ratio < threshold:
        raise Mismatch(f"at {depth} hidden layers the ratio is {ratio:.1e}, below {threshold:g}, but a "
                       "shallower network already gets there: step down one layer at a time and keep the "
                       "smallest depth whose title says 'below'.")
    raise Mismatch(f"at {depth} hidden layers the ratio is {ratio:.1e}, above {threshold:g} (the curve is a "
                   "little noisy from one depth to the next): look for the first depth, counting up from 1, "
                   "where the title says 'below'.")


# ---------------------------------------------------------------- relative_error

def _error_cases():
    rng = np.random.default_rng(12)
    a = rng.standard_normal((3, 4))
    return [
        ("a = [1, 2, 3], b = [1, 2, 3.003]", np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.003])),
        ("two (3, 4) arrays that differ by about 1e-6", a, a + 1e-6 * rng.standard_normal((3, 4))),
        ("a = b = [0, 0, 0]", np.zeros(3), np.zeros(3)),
        ("a = [0, 1e-20], b = [0, 0] (both below the floor 1e-12)", np.array([0.0, 1e-20]), np.zeros(2)),
        ("a = [1, -1], b = [-1, 1] (opposite signs)", np.array([1.0, -1.0]), np.array([-1.0, 1.0])),
        ("a = [2, 0.5], b = [1, 0.5] (asymmetric if you divide by |a| or |b| only)", np.array([2.0, 0.5]),
         np.array([1.0, 0.5])),
        ("a = [2, 2e-9], b = [2, 2.13e-9] (a correct gradient whose second entry is near zero: round-off)",
         np.array([2.0, 2e-9]), np.array([2.0, 2.13e-9])),
    ]


def _error_variants(a, b):
    diff = np.abs(a - b)
    magnitude = np.abs(a) + np.abs(b)
    floor = 1e-12       # the slips below are matched as learners write them, with the absolute floor

    def worst(denominator):
        return np.max(diff / denominator)

    with np.errstate(divide="ignore", invalid="ignore"):
        return [
            (worst(magnitude),
             "without a floor, entries where both a and b are 0 give 0/0 = nan: divide by "
             "np.maximum(|a| + |b|, floor)."),
            (worst(np.maximum(magnitude, 1e-12)),
             "with only the absolute floor 1e-12, an entry near zero is divided by its own tiny size, so the "
             "round-off of a central difference (about 1e-16 |f| / h, whatever the entry's size) looks like a "
             "large error for a correct gradient: use the scale-aware floor 1e-3 · max(|a| + |b|)."),
            (worst(np.maximum(np.abs(a), floor)),
             "dividing by |a| alone is not symmetric (and blows up where a = 0): divide by |a| + |b|."),
            (worst(np.maximum(np.abs(b), floor)),
             "dividing by |b| alone is not symmetric (and blows up where b = 0): divide by |a| + |b|."),
            (worst(np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)),
             "you divided by max(|a|, |b|), another common form; this exercise (and gdcourse.gradcheck) uses "
             "|a| + |b|, which keeps the error at most 1."),
            (np.mean(diff / np.maximum(magnitude, floor)),
             "you averaged over the entries; this exercise reports the worst entry: take the max."),
            (np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12),
             "you computed the norm-wise error ‖a − b‖ / (‖a‖ + ‖b‖) of the whole vectors. That is a standard "
             "measure too (immune to near-zero entries, but one wrong entry among many barely moves it); this "
             "exercise asks for the worst entry, which also tells you which entry is wrong."),
        ]


def _as_error_value(got, where):
    if got is None:
        raise Mismatch(f"on {where} your function returned None: return the error as a float.")
    if np.ndim(got) != 0:
        raise Mismatch(f"on {where} you returned an array of shape {np.shape(got)}: return one "
                       "number, the worst (max) entry.")
    try:
        return float(got)
    except (TypeError, ValueError):
        raise Mismatch(f"on {where} you returned {got!r}, not a number") from None


def _same(got, want):
    return (math.isnan(got) and math.isnan(want)) or math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-15)


@exercise("relative_error", success="your relative error matches gdcourse.gradcheck.relative_error on every "
                                     "case tried (including zeros and opposite signs).")
def relative_error(fn):
    """Check ``fn(a, b) -> float`` against :func:`gdcourse.gradcheck.relative_error`.

    All cases are run first, so a wrong answer is matched against the known variants on every case
    (on one case two variants can agree, e.g. dividing by |b| and by max(|a|, |b|) when b > a).
    """
    runs = []
    for describe, a, b in _error_cases():
        for x, y, order in ((a, b, ""), (b, a, " (with a and b swapped)")):
            where = describe + order
            got = _as_error_value(call(fn, x, y, describe=where), where)
            runs.append((where, x, y, got, gradcheck.relative_error(x, y)))
    failing = [run for run in runs if not _same(run[3], run[4])]
    if not failing:
        return None
    where, x, y, got, want = failing[0]
    variants = _error_variants(x, y)
    per_run = [_error_variants(r[1], r[2]) for r in runs]
    matching_here = [k for k, (value, _) in enumerate(variants) if _same(got, value)]
    matching_all = [k for k in matching_here
                    if all(_same(r[3], v[k][0]) for r, v in zip(runs, per_run, strict=True))]
    if matching_all or matching_here:
        hint = variants[(matching_all or matching_here)[0]][1]
    else:
        hint = "compute max over entries of |a − b| / max(|a| + |b|, 1e-3 · max(|a| + |b|), 1e-12)."
    raise Mismatch(f"on {where} you returned {got:.6g}, expected {want:.6g}: {hint}")
