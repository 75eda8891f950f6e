"""Loss scaling and float32 master weights in float16: the two failures they fix, and the scaler's rule."""

import numpy as np
import pytest

from gdcourse import losses, nn
from gdcourse.mixed_precision import DynamicLossScaler, MasterWeights, mixed_precision_step
from gdcourse.optim import SGD


def test_float16_facts_the_module_relies_on():
    assert np.finfo(np.float16).max == 65504
    assert np.float16(1.0) + np.float16(4e-4) == np.float16(1.0)      # below half the spacing 2⁻¹⁰: lost
    assert np.float16(1.0) + np.float16(6e-4) > np.float16(1.0)       # above it: kept
    assert np.float16(2e-8) == 0 and np.float16(1e-7) > 0            # the smallest subnormal is 6e-8


def test_scaler_rule_traced_by_hand():
    s = DynamicLossScaler(init_scale=8.0, growth_interval=2)
    for finite in [True, False, True, True, True, False]:
        s.update(finite)
    # 8 → (good 1) 8 → (inf) 4 → (good 1) 4 → (good 2: ×2) 8 → (good 1) 8 → (inf) 4
    assert s.history == [8.0, 8.0, 4.0, 4.0, 8.0, 8.0]
    assert s.scale == 4.0 and s.skipped == 2 and s.good_steps == 0


def test_scaler_validates():
    with pytest.raises(ValueError, match="growth_factor"):
        DynamicLossScaler(growth_factor=1.0)
    with pytest.raises(ValueError, match="backoff_factor"):
        DynamicLossScaler(backoff_factor=2.0)


def test_scaling_rescues_gradients_that_underflow_in_float16():
    rng = np.random.default_rng(0)
    layer64 = nn.Linear(16, 4, rng=rng)
    layer16 = nn.Linear(16, 4, rng=np.random.default_rng(0), dtype=np.float16)
    x = rng.normal(size=(32, 16))
    dy = rng.normal(size=(32, 4)) * 1e-9                          # tiny upstream gradients
    layer64(x)
    layer64.backward(dy)
    exact = layer64.weight.grad.copy()
    layer16(x.astype(np.float16))
    layer16.backward(dy.astype(np.float16))
    assert not layer16.weight.grad.any()                          # every gradient underflowed to 0
    layer16.zero_grad()
    scaler = DynamicLossScaler(init_scale=2.0**16)
    layer16(x.astype(np.float16))
    layer16.backward(scaler.scaled(dy.astype(np.float32)).astype(np.float16))
    recovered = layer16.weight.grad.astype(np.float32) / scaler.scale
    assert np.linalg.norm(recovered - exact) / np.linalg.norm(exact) < 2e-3


def regression(rng, n=256, d=8):
    X = rng.normal(size=(n, d))
    w_star = rng.normal(size=(d, 1))
    return X.astype(np.float16), (X @ w_star).astype(np.float16), w_star


def final_error(use_master, seed, steps=1000, lr=1e-3):
    rng = np.random.default_rng(seed)
    X, y, w_star = regression(rng)
    model = nn.Sequential(nn.Linear(8, 1, bias=False, rng=rng, dtype=np.float16))
    model[0].weight.value[...] = (w_star + 0.05 * rng.normal(size=w_star.shape)).astype(np.float16)
    master = MasterWeights(model.parameters()) if use_master else None
    opt = SGD(master.params if use_master else model.parameters(), lr=lr)
    for _ in range(steps):
        mixed_precision_step(model, losses.MSELoss(), X, y, opt, master=master)
    return float(np.linalg.norm(model[0].weight.value.astype(np.float64) - w_star))


def test_master_weights_keep_updates_that_float16_rounds_away():
    # Δw = 2·lr·(w − w*) ≈ 1e-4 is below half of float16's spacing near |w| ≈ 1: the float16 model stalls.
    seeds = range(20)
    stalled = np.array([final_error(False, s) for s in seeds])
    mastered = np.array([final_error(True, s) for s in seeds])
    start = 0.05 * np.sqrt(8)  # the initial distance is about this
    assert np.mean(stalled > 0.5 * start) >= 0.9       # float16 alone: at least 90 % of seeds keep > half the error
    assert np.mean(mastered < 0.35 * stalled) >= 0.9   # master weights: 3× closer on at least 90 % (seen: all 20)


def test_a_skipped_step_leaves_the_weights_and_halves_the_scale():
    rng = np.random.default_rng(1)
    X, y, _ = regression(rng)
    model = nn.Sequential(nn.Linear(8, 1, bias=False, rng=rng, dtype=np.float16))
    master = MasterWeights(model.parameters())
    opt = SGD(master.params, lr=1e-2)
    scaler = DynamicLossScaler(init_scale=2.0**24, growth_interval=1000)  # large enough to overflow float16
    before = model[0].weight.value.copy()
    result = mixed_precision_step(model, losses.MSELoss(), X, y, opt, master=master, scaler=scaler)
    assert not result["stepped"] and scaler.scale == 2.0**23
    np.testing.assert_array_equal(model[0].weight.value, before)
    for _ in range(30):
        result = mixed_precision_step(model, losses.MSELoss(), X, y, opt, master=master, scaler=scaler)
    assert result["stepped"] and scaler.skipped >= 2
    assert not np.array_equal(model[0].weight.value, before)


def test_loss_in_float32_scaled_before_rounding_keeps_gradients_that_float16_flushes():
    """loss_dtype=float32: the upstream gradient is scaled in float32 and only then rounded to float16."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(32, 8))
    y = rng.integers(0, 4, 32)

    class Tiny(losses.CrossEntropyLoss):                          # the mean over 32 · 2^20 terms
        def forward(self, pred, target):
            return super().forward(pred, target) / 2.0**20

        def backward(self):
            return super().backward() / np.float32(2.0**20)

    ref = nn.Linear(8, 4, rng=np.random.default_rng(0))
    ref(X)
    loss = Tiny()
    loss.forward(ref.forward(X), y)
    ref.backward(loss.backward())
    exact = ref.weight.grad.copy()

    def weight_grad(scaler):
        model = nn.Sequential(nn.Linear(8, 4, rng=np.random.default_rng(0), dtype=np.float16))
        master = MasterWeights(model.parameters())
        mixed_precision_step(model, Tiny(), X.astype(np.float16), y, SGD(master.params, lr=0.0), master=master,
                             scaler=scaler, loss_dtype=np.float32)
        return master.params[0].grad

    unscaled = weight_grad(None)
    scaled = weight_grad(DynamicLossScaler(init_scale=2.0**16))

    def error(g):
        return np.linalg.norm(g - exact) / np.linalg.norm(exact)

    assert error(unscaled) > 0.5 and np.mean(unscaled == 0) > 0.2   # (p − y)/2^25 ≈ 1.5e-8: below 6e-8, many 0
    assert error(scaled) < 1e-2

