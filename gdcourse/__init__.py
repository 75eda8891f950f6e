"""gdcourse: a small NumPy training stack, and the course built on it.

Modules (one concept each): ``nn`` (layers), ``functional`` (activation and loss
math), ``losses``, ``init``, ``optim``, ``schedules``, ``regularization``,
``graph`` (scalar autograd), ``gradcheck``, ``landscapes``, ``data``, ``train``,
``diagnostics``.
"""

__version__ = "0.1.0"
