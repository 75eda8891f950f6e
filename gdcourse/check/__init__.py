"""Exercise checks for the notebooks (see :mod:`gdcourse.check.core` for how they work).

Each notebook's checks live in a sub-module (``gd``, ``variants``, ``optimizers``,
``backprop``, ...); every name in a sub-module's ``__all__`` is re-exported here, so
a notebook writes ``from gdcourse import check`` and ``check.gd_step(gd_step)``.
"""

import importlib
import pkgutil

from gdcourse.check.core import REGISTRY, CheckResult, Mismatch, answer, call, exercise, expect, expect_close

__all__ = ["REGISTRY", "CheckResult", "Mismatch", "answer", "call", "exercise", "expect", "expect_close"]

for _info in pkgutil.iter_modules(__path__):
    if _info.name != "core":
        _module = importlib.import_module(f"{__name__}.{_info.name}")
        for _name in _module.__all__:
            globals()[_name] = getattr(_module, _name)
            __all__.append(_name)
