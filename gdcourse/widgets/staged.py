"""An explorer whose data has a cheap part and a slow part (a training run): the cheap part at once.

While a learner drags a slider, each new setting may need a training run of 0.1-1 s. A
:class:`StagedExplorer` answers a change from the browser with what is cheap (the
activation's curve, the run already shown greyed out) and a "training…" state, then
trains on the kernel's event loop and shows the result. If the learner has moved on
meanwhile, the stale run is skipped: only the latest setting is trained. A change made
from code (``explorer.set(...)``, ``control.value = ...`` in a cell or a test) computes
everything at once, so ``explorer.data`` is complete right after it.
"""

from __future__ import annotations

from gdcourse.widgets import Explorer

__all__ = ["StagedExplorer", "TRAINING"]

TRAINING = "<span style='color:#57606a'>training…</span>"


class StagedExplorer(Explorer):
    """An :class:`~gdcourse.widgets.Explorer` with a two-stage ``compute``.

    Parameters
    ----------
    controls, draw, figsize, title : as for :class:`~gdcourse.widgets.Explorer`; ``draw``'s
        updater must accept data whose slow part is None (waiting for the run).
    quick : callable(**values) -> cheap part
    slow : callable(**values) -> slow part (cache it: it is called again once finished)
    combine : callable(cheap, slow_or_None) -> data
    key : callable(**values) -> hashable; settings with equal keys share one slow result.
    """

    def __init__(self, controls, quick, slow, combine, key, draw, **kwargs):
        self._quick, self._slow, self._combine, self._key = quick, slow, combine, key
        self._finished = set()
        self._from_browser = False
        self.pending = None
        """The key of the setting being trained for the picture, or None."""
        super().__init__(controls, compute=self._compute, draw=draw, **kwargs)

    def request(self):
        self._from_browser = True
        super().request()

    def update(self):
        super().update()
        if self.pending is not None:
            self.status.value = TRAINING

    def _compute(self, **values):
        key = self._key(**values)
        staged, self._from_browser = self._from_browser, False
        if key in self._finished:
            self.pending = None
            return self._combine(self._quick(**values), self._slow(**values))
        if staged:
            self.pending = key
            self.schedule(self._train_latest)
            return self._combine(self._quick(**values), None)
        slow = self._slow(**values)
        self._finished.add(key)
        self.pending = None
        return self._combine(self._quick(**values), slow)

    def _train_latest(self):
        """Train the setting on screen, unless the learner has moved on (then its own request follows)."""
        values = self.values()
        key = self._key(**values)
        if key != self.pending:
            return
        self._slow(**values)
        self._finished.add(key)
        self.update()
