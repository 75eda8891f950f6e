"""Explorers whose data has a cheap part and a slow part (a training run): the ``compute``/``refine`` pair.

:class:`~gdcourse.widgets.Explorer` answers a change from the browser with ``compute`` (drawn
at once, with "computing…") and runs ``refine`` as a scheduled job, dropped if the controls
moved meanwhile. :func:`two_stage` builds that pair from a cheap function, a slow (cached)
one and a key naming the settings that share a slow result: a setting already trained is
computed whole at once, so going back to it shows no "training…" picture.
"""

from __future__ import annotations

__all__ = ["two_stage"]


def two_stage(quick, slow, combine, key):
    """``(compute, refine)`` for :class:`~gdcourse.widgets.Explorer`.

    quick : callable(**values) -> cheap part;  slow : callable(**values) -> slow part (cached by itself)
    combine : callable(cheap, slow_or_None) -> data;  key : callable(**values) -> hashable
    ``compute`` gives ``combine(cheap, None)`` unless the setting's key was trained before (or it is the
    first call: the explorer's first frame is drawn from complete data); ``refine`` trains it (unless
    that was done) and remembers the key.
    """
    trained = set()

    def compute(**values):
        if not trained:
            trained.add(key(**values))
        cheap = quick(**values)
        return combine(cheap, slow(**values) if key(**values) in trained else None)

    def refine(data, **values):
        if key(**values) in trained:
            return data
        result = combine(quick(**values), slow(**values))
        trained.add(key(**values))
        return result

    compute.trained = refine.trained = trained
    return compute, refine
