"""gdcourse: a small NumPy training stack, and the course built on it.

Modules (one concept each): ``nn`` (layers), ``functional`` (activation and loss
math), ``losses``, ``init``, ``optim``, ``schedules``, ``regularization``,
``graph`` (scalar autograd), ``gradcheck``, ``landscapes``, ``data``, ``train``,
``diagnostics``.
"""

__version__ = "0.1.0"


def __getattr__(name):
    # ``gdcourse.show`` without importing anything at ``import gdcourse`` (the CLI starts from here)
    if name == "show":
        from gdcourse.source import show

        return show
    raise AttributeError(f"module 'gdcourse' has no attribute {name!r}")
