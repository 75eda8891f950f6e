"""REG-11: knowledge distillation. The same small student trained on hard labels or on a teacher's
softened outputs (the loss itself is :func:`gdcourse.losses.distillation_loss`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from gdcourse import losses as L
from gdcourse import nn, optim
from gdcourse.data import batch_indices
from gdcourse.experiments.regularization.shared import digits, mlp, one_blas_thread, read_only, trained_digits_mlp
from gdcourse.experiments.regularization.students import students_accuracy, train_students
from gdcourse.losses import distillation_loss
from gdcourse.memo import stored
from gdcourse.train import accuracy, predict
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = ["soft_term_gradient_norms", "teacher_model", "train_student", "DistillationStudy",
           "distillation_study"]


def soft_term_gradient_norms(temperatures, n=64, classes=10, rng=0):
    """Norm of ``∂ KL(p_t^T ‖ p_s^T)/∂z_s``, without and with the ``T²`` factor, for random logits.

    Returns ``(plain (K,), scaled (K,))``: ``plain`` falls like ``1/T²`` for large T,
    ``scaled = T² · plain`` levels off.
    """
    rng = as_rng(rng)
    zs, zt = 2.0 * rng.standard_normal((n, classes)), 2.0 * rng.standard_normal((n, classes))
    labels = np.zeros(n, dtype=np.int64)
    plain = []
    for T in temperatures:
        _, grad = distillation_loss(zs, zt, labels, T, alpha=1.0)
        plain.append(np.linalg.norm(grad) / T**2)   # alpha=1 gradient includes T²; undo it
    plain = np.array(plain)
    return plain, plain * np.asarray(temperatures, dtype=float) ** 2


def teacher_model(rng=0) -> nn.Sequential:
    """The teacher: a 64-256-10 network trained 20 epochs on all 988 training digits (trained once per seed)."""
    return trained_digits_mlp(hidden=256, epochs=20, rng=rng)


def train_student(X, y, teacher_logits=None, hidden=16, temperature=4.0, alpha=0.9, epochs=30, lr=0.05,
                  batch_size=64, rng=0) -> nn.Sequential:
    """A 64-hidden-10 student trained on hard labels (``teacher_logits=None``) or by distillation.

    Same initialization, batch order and optimizer (SGD, momentum 0.9) for both,
    so the only difference is the target.
    """
    rng = as_rng(rng)
    X = check_array(X, "X", ndim=2, finite=True)
    student = mlp((X.shape[1], check_positive_int(hidden, "hidden"), 10), rng=rng)
    opt, ce = optim.SGD(student.parameters(), lr=lr, momentum=0.9), L.CrossEntropyLoss()
    for _ in range(check_positive_int(epochs, "epochs")):
        for batch in batch_indices(len(X), batch_size, rng=rng):
            opt.zero_grad()
            logits = student.forward(X[batch])
            if teacher_logits is None:
                ce.forward(logits, y[batch])
                grad = ce.backward()
            else:
                _, grad = distillation_loss(logits, teacher_logits[batch], y[batch], temperature, alpha)
            student.backward(grad, input_grad=False)
            opt.step()
    return student


@dataclass(frozen=True)
class DistillationStudy:
    """Validation accuracy of the small student, per training-set size and seed.

    ``accuracy[(n, "hard labels" | "distilled")] (len(seeds),)``; ``teacher`` the
    teacher's validation accuracy; ``temperature``, ``alpha`` the distillation settings.
    """

    sizes: tuple
    seeds: tuple
    accuracy: dict
    teacher: float
    temperature: float
    alpha: float
    hidden: int

    def mean(self, n, kind) -> float:
        return float(np.mean(self.accuracy[(n, kind)]))


def distillation_study(sizes=(200, 988), seeds=tuple(range(20)), hidden=16, temperature=4.0,
                       alpha=0.9) -> DistillationStudy:
    """The same small student, trained on hard labels or on the teacher's soft targets.

    For each size n the student sees the same n training digits (a fixed random
    subset; 988 = all of them) in both arms, for ``max(40, 20000/n)`` epochs of
    batches of 64 (SGD, lr 0.1, momentum 0.9); the teacher was trained on all 988.
    Cached per setting, read-only.
    """
    return _distillation_study(tuple(int(n) for n in sizes), tuple(int(s) for s in seeds),
                               check_positive_int(hidden, "hidden"),
                               check_positive(temperature, "temperature"), float(alpha))


def _student_epochs(n):
    return int(round(max(40.0, 20000.0 / n)))


@functools.lru_cache(maxsize=4)
@stored
@one_blas_thread
def _distillation_study(sizes, seeds, hidden, temperature, alpha):
    ds = digits()
    teacher = teacher_model()
    order = np.random.default_rng(0).permutation(len(ds.X_train))
    acc = {}
    for n in sizes:
        X, y = ds.X_train[order[:n]], ds.y_train[order[:n]]
        soft = predict(teacher, X)
        for kind, targets in (("hard labels", None), ("distilled", soft)):
            # train_student for every seed at once (same students, see .students)
            students = train_students(X, y, targets, hidden, temperature, alpha, _student_epochs(n), lr=0.1,
                                      seeds=seeds)
            acc[(n, kind)] = students_accuracy(students, ds.X_val, ds.y_val)
    teacher_acc = accuracy(predict(teacher, ds.X_val), ds.y_val)
    return read_only(DistillationStudy(sizes, seeds, acc, teacher_acc, temperature, alpha, hidden))
