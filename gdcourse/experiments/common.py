"""What every notebook's experiments share: one MLP builder, one digits split, one way to cache a run.

* :func:`mlp` builds every multilayer perceptron of the course (and of ``gdcourse diagnose``), so
  "a 64-128-10 ReLU network" means the same thing in notebook 02 and notebook 09.
* :func:`digits` is the one split of scikit-learn's digits: 988 train, 359 validation, 450 test.
* :func:`cached` caches a run per int seed (a Generator runs uncached) and returns it read-only,
  so one cached result can be shared between a notebook cell, an explorer and a test;
  :func:`trained_model` caches the weights of a trained network and hands out fresh copies.
* :func:`one_blas_thread` runs small networks on one BLAS thread: at widths of a few hundred and
  batches of a few dozen, BLAS threads only wait on each other (experiments ran 10-20x slower on a
  busy 2-core machine with them).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np
from threadpoolctl import threadpool_limits

from gdcourse import nn
from gdcourse.data import Dataset, load_digits
from gdcourse.memo import stored
from gdcourse.validate import as_rng, check_positive, check_positive_int, check_unit_interval, is_seed

__all__ = ["ACTIVATIONS", "NORMS", "mlp", "DIGITS_SPLIT", "digits", "read_only", "cached", "trained_model",
           "one_blas_thread", "quiet"]

ACTIVATIONS = {"identity": nn.Identity, "linear": nn.Identity, "step": nn.Step, "sigmoid": nn.Sigmoid,
               "tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "gelu": nn.GELU,
               "silu": nn.SiLU}
"""Activation name → layer class, for :func:`mlp`."""

NORMS = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}
"""Normalization name → layer class ``(num_features) → Module``, for :func:`mlp`."""


def _layer_factory(value, table, name) -> Callable[..., nn.Module]:
    """A name from ``table``, or a callable that makes the layer (a class, a ``functools.partial``…)."""
    if isinstance(value, str):
        if value not in table:
            raise ValueError(f"{name}: expected one of {sorted(table)} or a callable, got {value!r}")
        return table[value]
    if callable(value):
        return value
    raise TypeError(f"{name}: expected a name or a callable, got {type(value).__name__}")


def _check_sizes(sizes) -> tuple[int, ...]:
    sizes = tuple(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes: expected at least (in_features, out_features), got {sizes!r}")
    return tuple(check_positive_int(s, "sizes entries") for s in sizes)


def mlp(sizes, *, activation="relu", init="he_normal", out_init=None, bias=None, hidden_bias=0.0,
        weight_gain=1.0, out_scale=1.0, norm=None, after_norm=None, dropout=0.0, input_noise=0.0,
        residual=False, final_activation=False, rng=None, out_rng=None, dropout_rng=None) -> nn.Sequential:
    """A multilayer perceptron ``sizes[0] → sizes[1] → … → sizes[-1]``.

    Each hidden block is ``Linear → [norm] → [after_norm] → activation → [Dropout]``; the last layer is a
    plain ``Linear`` (add ``final_activation=True`` to follow it by the activation too). Shapes: input
    ``(N, sizes[0])``, output ``(N, sizes[-1])``.

    Parameters
    ----------
    activation : a name of :data:`ACTIVATIONS` or a zero-argument callable returning a layer.
    init, out_init : initializer (name or callable, see :mod:`gdcourse.init`) of the hidden and of the
        output weights (``out_init`` defaults to ``init``). Biases start at ``hidden_bias`` (hidden)
        and 0 (output).
    bias : whether hidden ``Linear`` layers have a bias; default: only without ``norm`` (a normalization's
        shift β replaces it).
    weight_gain, out_scale : multiply the initial hidden / output weights (e.g. ``out_scale=0.1`` starts
        near uniform class probabilities, so the first loss is close to ``ln K``).
    norm : None, ``"batch"``, ``"layer"`` or a callable ``(width) → layer``; ``after_norm`` likewise a
        callable ``(width) → layer`` placed right after it.
    dropout : drop probability of a ``Dropout`` after every hidden activation (0: none); ``dropout_rng``
        its generator (default: ``rng``'s stream).
    input_noise : std of a :class:`gdcourse.nn.GaussianNoise` layer in front (0: none).
    residual : wrap each hidden block in :class:`gdcourse.nn.Residual` (``x + block(x)``; needs equal
        widths).
    rng : int seed or Generator feeding every layer in order; ``out_rng`` a separate one for the output
        layer (so it stays the same whatever the depth).
    """
    sizes = _check_sizes(sizes)
    make_activation = _layer_factory(activation, ACTIVATIONS, "activation")
    make_norm = None if norm is None else _layer_factory(norm, NORMS, "norm")
    dropout = check_unit_interval(dropout, "dropout")
    input_noise = check_positive(input_noise, "input_noise", allow_zero=True)
    if residual and len(set(sizes[:-1])) != 1:
        raise ValueError(f"sizes: residual blocks need equal hidden widths, got {sizes!r}")
    rng = as_rng(rng)
    out_rng = rng if out_rng is None else as_rng(out_rng)
    dropout_rng = rng if dropout_rng is None else as_rng(dropout_rng)
    hidden_has_bias = (norm is None) if bias is None else bool(bias)

    layers = [nn.GaussianNoise(input_noise, rng=rng)] if input_noise else []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1], strict=True):
        block = [_linear(n_in, n_out, hidden_has_bias, init, weight_gain, hidden_bias, rng)]
        if make_norm is not None:
            block.append(make_norm(n_out))
        if after_norm is not None:
            block.append(after_norm(n_out))
        block.append(make_activation())
        layers.append(nn.Residual(nn.Sequential(*block)) if residual else nn.Sequential(*block))
        if dropout:
            layers.append(nn.Dropout(dropout, rng=dropout_rng))
    layers.append(_linear(sizes[-2], sizes[-1], True, init if out_init is None else out_init, out_scale, 0.0,
                          out_rng))
    if final_activation:
        layers.append(make_activation())
    return nn.Sequential(*_flatten(layers))


def _linear(n_in, n_out, bias, init, gain, bias_value, rng) -> nn.Linear:
    linear = nn.Linear(n_in, n_out, bias=bias, init=init, rng=rng)
    if gain != 1.0:
        linear.weight.value = linear.weight.value * gain
    if bias and bias_value != 0.0:
        linear.bias.value = np.full(n_out, float(bias_value))
    return linear


def _flatten(layers):
    """Unwrap the per-block ``Sequential`` (kept only inside a ``Residual``): one flat list of layers."""
    for layer in layers:
        if type(layer) is nn.Sequential:
            yield from layer.layers
        else:
            yield layer


# ---------------------------------------------------------------- data

DIGITS_SPLIT = {"test_fraction": 0.25, "val_fraction": 0.2, "rng": 0}
"""The one split of the 1,797 digits images used by every experiment: 988 train, 359 validation, 450 test."""


@functools.lru_cache(maxsize=2)
def digits(standardized: bool = False) -> Dataset:
    """The digits split of :data:`DIGITS_SPLIT`, read-only; pixels in [0, 1] (``standardized=True``: each
    feature standardized with the *training* mean and std).

    ``X_train (988, 64)``, ``X_val (359, 64)``, ``X_test (450, 64)``; labels 0-9. The test part is kept
    aside: nothing in the course is tuned on it.
    """
    ds = load_digits(**DIGITS_SPLIT)
    if standardized:
        ds = ds.standardized()
    read_only(ds.X_train, ds.y_train, ds.X_val, ds.y_val, ds.X_test, ds.y_test)
    return ds


# ---------------------------------------------------------------- caching runs

def read_only(*values):
    """Mark every array in ``values`` read-only, looking inside tuples, lists, dicts and dataclasses.

    Cached results are shared between callers: a caller that tries to modify one gets an error
    instead of silently changing what the next caller sees. Returns the value (or the tuple of values).
    """
    for value in values:
        _freeze(value)
    return values if len(values) != 1 else values[0]


def _freeze(value):
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, (tuple, list)):
        for item in value:
            _freeze(item)
    elif isinstance(value, dict):
        for item in value.values():
            _freeze(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            _freeze(getattr(value, field.name))


def cached(fn=None, *, maxsize=32):
    """Decorator: cache ``fn``'s result per arguments when its ``rng`` argument is an int seed.

    ``fn`` must take an ``rng`` argument (an int seed or a Generator). With an int seed the run is
    computed once (kept in memory, and on disk by :func:`gdcourse.memo.stored`) and its result frozen
    with :func:`read_only`; with a Generator (or None) it runs
    every time, since the stream it draws from changes. The other arguments must be hashable.
    The run itself happens on one BLAS thread (see :func:`one_blas_thread`).
    """
    if fn is None:
        return functools.partial(cached, maxsize=maxsize)
    signature = inspect.signature(fn)
    if "rng" not in signature.parameters:
        raise TypeError(f"cached: {fn.__name__} has no 'rng' argument")
    run = one_blas_thread(fn)
    run_stored = stored(run)

    @functools.lru_cache(maxsize=maxsize)
    def run_seeded(args, kwargs):
        return read_only(run_stored(*args, **dict(kwargs)))

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        if is_seed(bound.arguments["rng"]):
            return run_seeded(bound.args, tuple(sorted(bound.kwargs.items())))
        return run(*bound.args, **bound.kwargs)

    wrapper.cache_clear = run_seeded.cache_clear
    wrapper.uncached = run
    return wrapper


def trained_model(build: Callable[[int], nn.Module], train: Callable[[nn.Module, int], object], seed: int,
                  key=None) -> nn.Module:
    """A fresh copy of the model ``build(seed)`` after ``train(model, seed)``; training runs once per key.

    ``key`` (default: ``(build, train)``) names the setting; the trained weights are cached and copied
    into a newly built model on each call, so callers may modify what they get.
    """
    if not is_seed(seed):
        raise TypeError(f"seed: expected an int seed >= 0, got {seed!r}")
    key = (build, train) if key is None else key
    model = build(seed)
    for p, value in zip(model.parameters(), _trained_values(key, build, train, int(seed)), strict=True):
        p.value = value
    return model


_TRAINED: dict = {}
"""``(key, seed)`` → the trained weights (read-only); the oldest of more than 16 settings is dropped."""


def _trained_values(key, build, train, seed):
    if (key, seed) not in _TRAINED:
        model = build(seed)
        one_blas_thread(train)(model, seed)
        if len(_TRAINED) >= 16:
            del _TRAINED[next(iter(_TRAINED))]
        _TRAINED[key, seed] = read_only(tuple(p.value.copy() for p in model.parameters()))
    return _TRAINED[key, seed]


# ---------------------------------------------------------------- running small networks fast and quietly

def one_blas_thread(fn):
    """Decorator: run ``fn`` with NumPy's BLAS on one thread (see the module docstring for why)."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return run


@contextmanager
def quiet():
    """One BLAS thread and no floating-point warnings: for runs that are broken on purpose and overflow."""
    with np.errstate(all="ignore"), threadpool_limits(limits=1, user_api="blas"):
        yield
