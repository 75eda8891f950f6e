"""Activation recomputation ("gradient checkpointing", Chen et al., 2016) for a ``Sequential``.

Backprop needs every layer's cached forward values, so a plain L-layer model
holds L layers' activations at once. ``Checkpoint(model, segments=S)`` splits
the layers into S consecutive segments and keeps only each segment's *input*
during the forward pass; in backward it reruns one segment's forward from its
saved input (the activations exist again, for that segment only), backprops
through it and drops them. Peak storage is about ``S + L/S`` layer activations
instead of ``L`` — smallest at ``S = √L``, where it is ``2√L`` — for the price
of one extra forward pass of every layer (about a third more compute when a
backward costs two forwards).

Recomputing must give the same values: the random generators of the segment's
layers (dropout masks) are rewound to their state at the first forward, and
buffers (BatchNorm's running statistics) are put back after the rerun so they
are updated once per step, as without checkpointing.
"""

from __future__ import annotations

import numpy as np

from gdcourse.nn.module import Module, Sequential, _own_buffers, _own_generators
from gdcourse.validate import check_positive_int

__all__ = ["Checkpoint", "cached_bytes"]


def cached_bytes(module: Module) -> int:
    """Bytes of the arrays that ``module`` and its sub-modules hold for backward (each array counted once)."""
    return _distinct_bytes(_cached_arrays([module]))


def _cached_arrays(modules):
    for module in modules:
        for m in module.modules():
            yield from _arrays(m.__dict__.get("_cache"))


def _distinct_bytes(arrays):
    return sum({id(a): a.nbytes for a in arrays}.values())


def _arrays(cache):
    if isinstance(cache, np.ndarray):
        yield cache
    elif isinstance(cache, (tuple, list)):
        for item in cache:
            yield from _arrays(item)


class Checkpoint(Module):
    """Run ``model``'s layers in ``segments`` segments, storing only segment inputs; recompute in backward.

    ``x: (N, ...)`` as for ``model``; gradients equal those of ``model`` itself.
    Measurements for the notebook: ``layer_forwards`` counts layer forward
    calls (recomputation included) and ``peak_bytes`` is the most cached
    activation memory seen at once during the last forward and backward.
    """

    def __init__(self, model: Sequential, segments: int):
        super().__init__()
        if not isinstance(model, Sequential):
            raise TypeError(f"Checkpoint: model: expected a gdcourse.nn.Sequential, got {type(model).__name__}")
        segments = check_positive_int(segments, "segments")
        if segments > len(model):
            raise ValueError(f"segments: expected at most the {len(model)} layers of model, got {segments}")
        self.model = model
        bounds = np.linspace(0, len(model), segments + 1).round().astype(int)
        self.segments = [model.layers[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        self.layer_forwards = 0
        self.peak_bytes = 0

    def forward(self, x):
        saved = []

        def run(h):
            for segment in self.segments:
                saved.append((h, _generator_states(segment)))
                h = self._forward_segment(segment, h)
                self._note_peak(saved, segment)
                _release(segment)
            return h

        self.peak_bytes = 0
        y = self._contain(x, run)
        return self._keep(saved, y)

    def backward(self, dy, input_grad: bool = True):
        saved = self._saved(dy)
        for k in range(len(self.segments) - 1, -1, -1):
            segment, (h, states) = self.segments[k], saved[k]
            self._recompute(segment, h, states)
            self._note_peak(saved, segment)
            for i in range(len(segment) - 1, -1, -1):
                first = k == 0 and i == 0
                dy = segment[i].backward(dy, input_grad) if first else segment[i].backward(dy)
            _release(segment)
        return dy

    def _forward_segment(self, segment, h):
        for layer in segment:
            h = layer.forward(h)
            self.layer_forwards += 1
        return h

    def _recompute(self, segment, h, states):
        buffers = _buffer_copies(segment)
        for (module, name, _), state in zip(_generators(segment), states, strict=True):
            getattr(module, name).bit_generator.state = state
        self._contain(h, lambda h: self._forward_segment(segment, h))
        for module, name, value in buffers:
            setattr(module, name, value)

    def _note_peak(self, saved, segment):
        inputs = [h for h, _ in saved if isinstance(h, np.ndarray)]
        self.peak_bytes = max(self.peak_bytes, _distinct_bytes([*inputs, *_cached_arrays(segment)]))

    def extra_repr(self):
        return f"segments={len(self.segments)}, layers={len(self.model)}"


def _generators(segment):
    return [(m, name, g) for layer in segment for m in layer.modules() for name, g in _own_generators(m)]


def _generator_states(segment):
    return [g.bit_generator.state for _, _, g in _generators(segment)]


def _buffer_copies(segment):
    return [(m, name, value.copy() if isinstance(value, np.ndarray) else value)
            for layer in segment for m in layer.modules() for name, value in _own_buffers(m)]


def _release(segment):
    for layer in segment:
        for m in layer.modules():
            m._cache = None
