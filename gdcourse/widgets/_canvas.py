"""One figure per explorer, laid out once and re-rendered in layers: frames cached, content redrawn.

Rendering a figure with Agg costs mostly text: every tick label, axis label and
title is laid out and rasterized again on each draw (≈1 ms each here, 100-150 of
them in a three-panel frame). Between two positions of a slider the ticks rarely
change, so :class:`LayeredFigure` keeps two pictures:

* the *frames*: each axes' patch, ticks, tick labels and axis labels, drawn by
  matplotlib's own ``Axes.draw`` with the content left out, and
* the *content*: every other artist of an axes (lines, collections, images,
  texts, titles, legends, spines), which :meth:`LayeredFigure.freeze` marks
  ``animated`` so that ``Axes.draw`` skips it and this class draws it on top.

After an update an axes whose *view* changed (limits, scales, axis labels, its
locators and formatters) gets its frame drawn again; an axes whose content
changed (an artist, or any artist inside it such as a legend text, is ``stale``,
or artists were added or removed) gets its content drawn again, over its frame.
Each axes owns a region of the canvas (its tight bounding box, titles and
legends included); regions that overlap are redrawn together, so nothing is
drawn twice on top of itself.

If a frame drawn again would put tick labels outside the figure, the layout is
solved again (:meth:`LayeredFigure.relayout`) rather than cutting them off.
Figure-level artists (``fig.suptitle``, ``fig.legend``, ``fig.text``) belong to
the first frame and are not redrawn: put changing text inside an axes.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.spines import Spine
from matplotlib.transforms import Bbox

from gdcourse.plots.inline import thin_log_minor_ticks

__all__ = ["LayeredFigure", "PNG_COMPRESS_LEVEL"]

PNG_COMPRESS_LEVEL = 1
"""zlib level 1: a 1,000×400 frame encodes in ~25 ms instead of ~45 ms at the default 6, ~10 % larger."""


class LayeredFigure:
    """A ``Figure`` on an Agg canvas whose layout is solved once and whose updates redraw what changed.

    ``fig`` is the figure to draw on; after :meth:`new_frame` and drawing, call
    :meth:`freeze`; after changing artists, :meth:`render`. :meth:`png` encodes the
    canvas. ``counts`` tells how many frames and contents were drawn (for tests).
    """

    def __init__(self, figsize, dpi):
        self.fig = Figure(figsize=figsize, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self.counts = {"layouts": 0, "frames": 0, "contents": 0}
        self._frames = None
        self._regions = {}
        self._views = {}
        self._members = {}

    def new_frame(self) -> Figure:
        """An empty figure with constrained layout, to be drawn on, then :meth:`freeze`-d."""
        self.fig.clear()
        self.fig.set_layout_engine("constrained")
        return self.fig

    def freeze(self):
        """Solve the layout, keep it, render the frames and the content, and remember each axes' state."""
        fig = self.fig
        thin_log_minor_ticks(fig)                # as in the notebook's static figures
        self.canvas.draw()                       # constrained layout runs here, once
        fig.set_layout_engine("none")            # positions stay as solved
        self.counts["layouts"] += 1
        for ax in fig.axes:
            _animate_content(ax)
        self.canvas.draw()                       # the frames alone
        self._frames = self._pixels().copy()
        renderer = self.canvas.get_renderer()
        for ax in fig.axes:
            self._regions[ax] = _pixel_box(ax.get_tightbbox(renderer), fig)
            self._views[ax] = _view(ax)
            self._members[ax] = _content_ids(ax)
        self._draw_content(fig.axes)
        self.counts["frames"] += len(fig.axes)

    def render(self):
        """Redraw the frames whose view changed and the content that changed, over the cached rest."""
        fig = self.fig
        renderer = self.canvas.get_renderer()
        for ax in fig.axes:
            _animate_content(ax)                 # artists an updater added
        views = {ax: _view(ax) for ax in fig.axes}
        members = {ax: _content_ids(ax) for ax in fig.axes}
        moved = [ax for ax in fig.axes if views[ax] != self._views[ax]]
        changed = [ax for ax in fig.axes if ax in moved or members[ax] != self._members[ax]
                   or any(_any_stale(a) for a in _content(ax))]
        if not changed:
            return
        for ax in changed:
            extent = ax.get_tightbbox(renderer) if ax in moved else _content_extent(ax, renderer)
            if ax in moved and not _inside(extent, fig.bbox):
                self.relayout()                  # new tick labels would be cut off: solve the layout again
                return
            self._regions[ax] = _union(self._regions[ax], _pixel_box(extent, fig))
        pixels = self._pixels()
        shown = pixels.copy()
        if moved:
            moved = _closure(moved, self._regions, fig.axes)
            pixels[...] = self._frames
            face = (np.asarray(fig.get_facecolor()) * 255).round().astype(np.uint8)
            for ax in moved:
                x0, y0, x1, y1 = self._regions[ax]
                pixels[y0:y1, x0:x1] = face
            for ax in fig.axes:                  # figure order is drawing order
                if ax in moved:
                    ax.draw(renderer)
            self._frames = pixels.copy()
            self.counts["frames"] += len(moved)
        redraw = _closure(list(dict.fromkeys(changed + moved)), self._regions, fig.axes)
        pixels[...] = shown
        for ax in redraw:
            x0, y0, x1, y1 = self._regions[ax]
            pixels[y0:y1, x0:x1] = self._frames[y0:y1, x0:x1]
        self._draw_content([ax for ax in fig.axes if ax in redraw])
        self._views = {ax: _view(ax) for ax in fig.axes} if moved else views   # frames drawn: none stale
        self._members = members

    def relayout(self):
        """Solve the constrained layout again for the figure as it is now, and render it all."""
        self.fig.set_layout_engine("constrained")
        self.freeze()

    def png(self) -> bytes:
        """The canvas as PNG bytes (PIL, fast compression)."""
        from PIL import Image

        width, height = self.canvas.get_width_height()
        buffer = io.BytesIO()
        Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(
            buffer, format="png", compress_level=PNG_COMPRESS_LEVEL)
        return buffer.getvalue()

    def _draw_content(self, axes):
        renderer = self.canvas.get_renderer()
        for ax in axes:
            for artist in sorted(_content(ax), key=lambda a: a.get_zorder()):
                if artist.get_visible():
                    artist.draw(renderer)
                _unstale(artist)                 # also the hidden ones: they are shown as they are
        self.counts["contents"] += len(axes)

    def _pixels(self):
        """The Agg buffer as a writable (height, width, 4) uint8 array; row 0 is the top."""
        return np.asarray(self.canvas.buffer_rgba())


def _content(ax):
    """What :class:`LayeredFigure` draws over the frame of ``ax``: every child but its axes, patch and
    the artists put :func:`in_frame`."""
    framed = ax.axison and ax._frameon
    return [a for a in ax.get_children()
            if a is not ax.patch and not isinstance(a, Axis) and (framed or not isinstance(a, Spine))
            and not getattr(a, "_in_frame", False)]


def _framed(ax):
    """The artists of ``ax`` marked by :func:`gdcourse.plots.in_frame`: drawn with its frame."""
    return [a for a in ax.get_children() if getattr(a, "_in_frame", False)]


def _animate_content(ax):
    for artist in _content(ax):
        if not artist.get_animated():
            artist.set_animated(True)


def _content_ids(ax):
    return tuple(id(a) for a in _content(ax))


def _unstale(artist):
    artist.stale = False                         # False does not propagate: only this artist
    for child in artist.get_children():
        _unstale(child)


def _content_extent(ax, renderer):
    """Where the content of ``ax`` is drawn: the axes box, and whatever is not clipped to it (titles, texts).

    A legend placed by ``loc`` alone lies inside the axes box: measuring it would lay it out again.
    Spines are skipped: they move only with the view (limits or position), and an axes whose view
    moved is measured whole (``get_tightbbox``), so here they are where the region already covers them.
    """
    boxes = [ax.bbox]
    for artist in _content(ax):
        if (not artist.get_visible() or isinstance(artist, Spine)
                or (isinstance(artist, Legend) and artist._bbox_to_anchor is None)):
            continue
        if not artist.get_clip_on() or artist.get_clip_box() is None or artist.get_clip_box() is not ax.bbox:
            box = artist.get_tightbbox(renderer)
            if box is not None and np.isfinite(box.extents).all():
                boxes.append(box)
    return Bbox.union(boxes)


def _any_stale(artist) -> bool:
    return artist.stale or any(_any_stale(child) for child in artist.get_children())


def _view(ax):
    """What a frame shows: limits, scales, axis labels, tick locators and formatters, visibility, and
    the artists drawn :func:`in_frame` (which, and whether one changed)."""
    framed = _framed(ax)
    return (ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale(), ax.get_xlabel(), ax.get_ylabel(),
            ax.get_visible(), ax.axison, tuple(ax.get_position().bounds),
            tuple(id(a) for a in framed), any(_any_stale(a) for a in framed),
            *(id(x) for axis in (ax.xaxis, ax.yaxis)
              for x in (axis.get_major_locator(), axis.get_major_formatter(), axis.get_minor_locator())))


def _pixel_box(bbox, fig):
    """A display-space Bbox → (x0, y0, x1, y1) columns and rows of the buffer (row 0 at the top), padded."""
    width, height = fig.canvas.get_width_height()
    bbox = Bbox.intersection(bbox, fig.bbox) or Bbox([[0, 0], [0, 0]])
    x0, x1 = int(np.floor(bbox.x0)) - 2, int(np.ceil(bbox.x1)) + 2
    top, bottom = height - int(np.ceil(bbox.y1)) - 2, height - int(np.floor(bbox.y0)) + 2
    return max(x0, 0), max(top, 0), min(x1, width), min(bottom, height)


def _inside(box, outer, tolerance=1.0):
    return (box.x0 >= outer.x0 - tolerance and box.y0 >= outer.y0 - tolerance
            and box.x1 <= outer.x1 + tolerance and box.y1 <= outer.y1 + tolerance)


def _union(a, b):
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _intersects(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _closure(chosen, regions, all_axes):
    """``chosen`` plus every axes whose region meets one of theirs, transitively (clearing one erases it)."""
    chosen = list(chosen)
    grown = True
    while grown:
        grown = False
        for ax in all_axes:
            if ax not in chosen and any(_intersects(regions[ax], regions[c]) for c in chosen):
                chosen.append(ax)
                grown = True
    return chosen
