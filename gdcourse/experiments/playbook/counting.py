"""PRAC-07 and PRAC-08: counting the parameters of fully connected and convolutional layers, the
output size of a convolution, and a direct convolution to check them against."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from gdcourse.validate import check_array, check_positive_int

__all__ = ["count_parameters", "layer_parameters", "conv_output_size", "conv_parameters", "conv2d"]

def _check_sizes(layer_sizes):
    sizes = list(layer_sizes)
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes: expected at least an input and an output size, got {sizes!r}")
    for i, n in enumerate(sizes):
        check_positive_int(n, f"layer_sizes[{i}]")
    return sizes


def layer_parameters(layer_sizes, bias=True) -> list[int]:
    """Parameters of each fully connected layer: ``n_i · n_(i+1) + n_(i+1)`` (weights + biases)."""
    sizes = _check_sizes(layer_sizes)
    return [n_in * n_out + (n_out if bias else 0) for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)]


def count_parameters(layer_sizes, bias=True) -> int:
    """Learnable parameters of a fully connected network ``n_0 → n_1 → … → n_L``: ``Σ (n_i + 1) n_(i+1)``."""
    return sum(layer_parameters(layer_sizes, bias))


def conv_output_size(n: int, f: int, p: int = 0, s: int = 1) -> int:
    """Output length of a convolution along one axis: ``⌊(n − f + 2p) / s⌋ + 1``.

    ``n`` input size, ``f`` filter size, ``p`` zero padding on each side, ``s`` stride.
    """
    n, f = check_positive_int(n, "n"), check_positive_int(f, "f")
    p, s = check_positive_int(p, "p", allow_zero=True), check_positive_int(s, "s")
    if f > n + 2 * p:
        raise ValueError(f"f: expected at most the padded input size n + 2p = {n + 2 * p}, got {f}")
    return (n - f + 2 * p) // s + 1


def conv_parameters(f: int, c_in: int, c_out: int, bias: bool = True) -> int:
    """Parameters of a conv layer with ``c_out`` filters of ``f × f × c_in``: ``(f² c_in + 1) c_out``."""
    f, c_in, c_out = (check_positive_int(v, name) for v, name in ((f, "f"), (c_in, "c_in"), (c_out, "c_out")))
    return (f * f * c_in + (1 if bias else 0)) * c_out


def conv2d(x, weight, bias=None, stride: int = 1, padding: int = 0) -> np.ndarray:
    """A direct 2-D convolution (cross-correlation, as in deep-learning libraries).

    Shapes: ``x (N, C_in, H, W)``, ``weight (C_out, C_in, f, f)``, ``bias (C_out,)``; output
    ``(N, C_out, H_out, W_out)`` with ``H_out = ⌊(H − f + 2p)/s⌋ + 1``. Every ``f × f`` window of
    the zero-padded input is taken with ``sliding_window_view`` (a view, no copy) and contracted
    with the filters in one ``einsum``; the stride keeps every ``s``-th window.
    """
    x = check_array(x, "x", ndim=4)
    weight = check_array(weight, "weight", ndim=4)
    if weight.shape[1] != x.shape[1] or weight.shape[2] != weight.shape[3]:
        raise ValueError(f"weight: expected shape (C_out, {x.shape[1]}, f, f), got {weight.shape}")
    stride = check_positive_int(stride, "stride")
    padding = check_positive_int(padding, "padding", allow_zero=True)
    f = weight.shape[2]
    conv_output_size(x.shape[2], f, padding, stride)  # validates the sizes
    conv_output_size(x.shape[3], f, padding, stride)
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(padded, (f, f), axis=(2, 3))[:, :, ::stride, ::stride]
    out = np.einsum("nchwij,ocij->nohw", windows, weight, optimize=True)
    if bias is not None:
        out += np.asarray(bias, dtype=out.dtype)[None, :, None, None]
    return out


