"""``Parameter``, the flat buffers of ``Sequential`` and the fence around them (gdcourse.nn.parameter).

Expected values are computed here by hand (loops, sums written out), never by the code under test.
"""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gdcourse
from gdcourse import nn

# --- Parameter ------------------------------------------------------------------------

def test_parameter_assignment_copies_into_storage():
    p = nn.Parameter(np.zeros((2, 3)), "w")
    storage = p.value
    new = np.arange(6.0).reshape(2, 3)
    p.value = new
    assert p.value is storage
    np.testing.assert_array_equal(p.value, new)
    new[0, 0] = 100.0  # the parameter holds a copy, not the caller's array
    assert p.value[0, 0] == 0.0
    grad_storage = p.grad
    p.grad = np.ones((2, 3))
    assert p.grad is grad_storage and np.all(p.grad == 1)
    p.value -= 1.0  # in-place update, as optimizers do
    assert p.value is storage and p.value[0, 1] == 0.0


def test_parameter_assignment_rejects_wrong_shape():
    p = nn.Parameter(np.zeros((2, 3)), "w")
    with pytest.raises(ValueError, match=r"w.value: expected shape \(2, 3\), got \(3, 2\)"):
        p.value = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"w.grad: expected shape \(2, 3\), got \(6,\)"):
        p.grad = np.zeros(6)


@pytest.mark.parametrize("rows, cols", [(4, 3), (128, 256)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_accumulate_sum_writes_then_adds_the_batch_sum(rows, cols, dtype):
    g = np.random.default_rng(rows)
    p = nn.Parameter(np.zeros(cols))  # float64: a float32 dy takes the casting branch
    first, second = g.standard_normal((rows, cols)).astype(dtype), g.standard_normal((rows, cols))
    # a float32 sum of N standard-normal entries is off by up to about N u max|x| (u = 6e-8): 1e-4
    tol = dict(rtol=0, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    p.zero_grad()
    p.accumulate_sum(first)  # written into the zeroed gradient
    by_rows = sum(first[n].astype(np.float64) for n in range(rows))
    np.testing.assert_allclose(p.grad, by_rows, **tol)
    p.accumulate_sum(second)  # added to it
    np.testing.assert_allclose(p.grad, by_rows + sum(second[n] for n in range(rows)), **tol)


def test_parameter_rejects_integer_values():
    with pytest.raises(ValueError, match="floating-point value, got dtype int64"):
        nn.Parameter(np.array([1, 2], dtype=np.int64), "b")


def test_sequential_packs_parameters_into_one_buffer():
    g = np.random.default_rng(29)
    model = nn.Sequential(nn.Linear(4, 3, rng=g), nn.Tanh(), nn.Linear(3, 2, rng=g))
    params = model.parameters()
    assert [p.shape for p in params] == [(4, 3), (3,), (3, 2), (2,)]
    bases = {id(p.value.base) for p in params}
    assert len(bases) == 1 and params[0].value.base is not None
    x, dy = g.standard_normal((5, 4)), g.standard_normal((5, 2))
    model(x)
    model.backward(dy)
    flat = nn.grad_vector(params)
    np.testing.assert_array_equal(flat, np.concatenate([p.grad.ravel() for p in params]))
    assert not flat.flags.writeable  # a read-only view: write through Parameter.grad
    params[0].grad[...] = 7.0
    assert np.all(flat[:12] == 7.0)  # ... and the view shows it
    params[1].value = np.array([1.0, 2.0, 3.0])  # assignment keeps the packing
    assert params[1].value.base is params[0].value.base
    model.zero_grad()
    assert np.all(flat == 0)


def test_grad_vector_is_a_read_only_view_so_zero_grad_shortcut_stays_exact():
    """``grad_vector`` cannot be written, so nothing can add to a gradient behind the back of the
    write-instead-of-add shortcut that the first backward after ``zero_grad()`` takes."""
    model = nn.Sequential(nn.Linear(3, 2, rng=0))
    x, dy = np.ones((4, 3)), np.ones((4, 2))
    flat = nn.grad_vector(model.parameters())
    model.zero_grad()
    with pytest.raises(ValueError, match="read-only"):
        flat[:] = 7.0
    model[0].weight.grad += 7.0  # writing through .grad turns the shortcut off
    model(x)
    model.backward(dy)
    np.testing.assert_array_equal(model[0].weight.grad, 7.0 + x.T @ dy)
    model.zero_grad()
    model(x)
    model.backward(dy)
    np.testing.assert_array_equal(model[0].weight.grad, x.T @ dy)
    np.testing.assert_array_equal(flat[: x.shape[1] * 2], (x.T @ dy).ravel())  # the view follows the buffer


# --- the fast path is fenced, and importing nn stays light ---------------------------------

def test_only_nn_parameter_touches_the_private_attributes_of_parameter():
    """Packing and the zero-grad shortcut live in nn/parameter.py; every other module goes
    through the public ``value``, ``grad``, ``pack``, ``zero_grad`` and ``accumulate_matmul``."""
    package = Path(gdcourse.__file__).parent
    private = re.compile(r"\._(value|grad|pack|grad_zero)\b(?!\s*\()")  # not a method call
    offenders = [f"{path.relative_to(package)}:{n}" for path in sorted(package.rglob("*.py"))
                 if path != package / "nn" / "parameter.py"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                 if private.search(line)]
    assert offenders == []


def test_importing_nn_losses_and_optim_does_not_load_scipy():
    """SciPy takes about 0.3 s to import; only the exact GELU needs it, and imports it when called."""
    code = ("import sys, gdcourse.nn, gdcourse.losses, gdcourse.optim, gdcourse.functional; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))")
    root = str(Path(gdcourse.__file__).parents[1])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": root, "PATH": ""}, cwd=root)
    assert done.stdout.strip() == "[]"
