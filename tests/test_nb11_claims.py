"""Every number notebook 11 and the SCALE bank entries state, re-derived or asserted as a rate over seeds.

Formats are checked against ``np.finfo``; random outcomes are asserted over 20 seeds as intervals, never as
one seed's count; the Adam filter form is checked against the real optimizer.
"""

import numpy as np
import pytest

from gdcourse import bank, nn
from gdcourse.experiments import scale as E
from gdcourse.nn import Parameter
from gdcourse.optim import LAMB, Adam


def test_format_table_agrees_with_numpy_and_the_bank():
    rows = {row.name: row for row in E.format_table()}
    for name, dtype in (("float16", np.float16), ("float32", np.float32)):
        info = np.finfo(dtype)
        assert rows[name].largest == float(info.max)
        assert rows[name].smallest_normal == float(info.smallest_normal)
        assert rows[name].smallest_subnormal == float(info.smallest_subnormal)
        assert rows[name].spacing_at_one == float(info.eps)
    assert rows["float16"].largest == 65504
    assert rows["bfloat16"].smallest_normal == rows["float32"].smallest_normal       # float32's range
    assert rows["bfloat16"].spacing_at_one == 2.0**-7


def test_bfloat16_rounding_keeps_the_top_16_bits_to_nearest_even():
    x = np.array([1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-7, np.pi, -2.0], dtype=np.float32)
    # 1 + 2⁻⁸ is a tie between 1 and 1 + 2⁻⁷: to even (1). 1 + 3·2⁻⁸ ties up to 1 + 2·2⁻⁷ (even).
    np.testing.assert_array_equal(E.to_bfloat16(x), np.float32([1.0, 1 + 2**-6, 1 + 2**-7, 3.140625, -2.0]))
    assert (E.to_bfloat16(x).view(np.uint32) & 0xFFFF == 0).all()


def test_updates_below_half_the_spacing_are_lost():
    assert E.float16_spacing(1.0) == 2.0**-10
    assert not E.survives(1.0, 4e-4) and E.survives(1.0, 6e-4)
    assert E.survives(1.0, 4e-4, np.float32)
    assert np.float16(1.0) + np.float16(3e-4) == 1.0 and E.to_bfloat16(np.float32(1 + 3e-4)) == 1.0  # SCALE-01a


def test_loss_scaling_removes_underflow_over_20_seeds():
    flushed = E.underflow_fraction([1.0, 2.0**8, 2.0**12])
    assert 0.015 < flushed[:, 0].min() and flushed[:, 0].max() < 0.06     # "about 3 % (2-4 %)" at S = 1
    assert 0.02 < flushed[:, 0].mean() < 0.04
    assert flushed[:, 1].mean() < 0.001
    assert (flushed[:, 2] == 0).all()                                      # "none from 2^12 on"


def test_master_weights_keep_the_updates_float16_loses():
    runs = E.fine_tune_runs()
    assert len(runs.seeds) == 20
    float16, master, float32 = runs.float16 / runs.start, runs.master / runs.start, runs.float32 / runs.start
    assert np.mean(float16 > 0.7) >= 0.85                 # float16 alone keeps most of the error on nearly all
    assert 0.85 < np.median(float16) < 1.0
    assert (master < 0.25).all()                          # master weights converge on every problem
    np.testing.assert_allclose(master, float32, rtol=0.1, atol=0.01)  # ... like float32


def test_checkpoint_table_numbers():
    rows = E.checkpoint_table()
    assert rows[0].peak_activations == 16 and rows[0].layer_forwards == 16
    assert {r.segments: r.peak_activations for r in rows[1:]} == {1: 16, 2: 9, 4: 7, 8: 9, 16: 16}
    assert all(r.layer_forwards == 32 for r in rows[1:])


@pytest.mark.parametrize("depth", range(1, 60))
def test_best_segments_is_the_argmin_and_round_sqrt(depth):
    costs = {s: s + depth / s for s in range(1, depth + 1)}
    best = min(costs, key=lambda s: (costs[s], s))
    assert E.best_segments(depth) == best == round(np.sqrt(depth))


def test_accumulation_gaps_over_20_seeds():
    gaps = E.accumulation_gaps()
    assert (gaps.weighted < 1e-14).all()
    assert (0.05 < gaps.equal_weights).all() and (gaps.equal_weights < 0.1).all()  # "about 7 %" (bank: 6 %)
    assert (2.5 < gaps.summed).all() and (gaps.summed < 3.5).all()
    assert (gaps.batch_norm > 0.5).all()                                           # "57-88 %", "more than half"


def test_noise_scale_estimates_over_20_seeds():
    check = E.noise_scale_check()
    assert check.exact[0] == pytest.approx(28.4, abs=0.1) and check.exact[1] == pytest.approx(177, abs=1)
    errors = np.abs(check.estimates / np.array(check.exact)[:, None] - 1)
    assert errors.shape == (2, 20) and errors.max() < 0.2          # "within 15 % for all 20 seeds" (bank)
    assert np.median(errors) < 0.05


def test_two_batch_formula_recovers_a_known_noise_scale():
    est = E.noise_scale_from_two_batches(2.0 + 60 / 8, 2.0 + 60 / 512, 8, 512)
    assert est.grad_sq == pytest.approx(2.0) and est.trace == pytest.approx(60.0) and est.b_noise == pytest.approx(30)


def test_filter_form_equals_running_optim_adam():
    grads = E.jump_gradients(factor=50.0, before=300, after=60, rng=3)
    for betas in ((0.9, 0.999), (0.8, 0.95)):
        p = Parameter(np.zeros(1), "w")
        opt = Adam([p], lr=1e-3, betas=betas, eps=1e-12)
        ratios = []
        for g in grads:
            before = p.value[0]
            p.grad = np.array([g])
            opt.step()
            ratios.append(abs(p.value[0] - before) / 1e-3)
        np.testing.assert_allclose(E.adam_step_ratios(grads, betas), ratios, rtol=1e-9)


@pytest.mark.parametrize("beta2, low, high", [(0.999, 5.5, 6.6), (0.99, 1.9, 2.2), (0.95, 1.05, 1.15)])
def test_adam_jump_peaks_over_20_noise_seeds(beta2, low, high):
    peaks = [E.gradient_jump(beta2=beta2, rng=seed).step_ratio[2000:].max() for seed in range(20)]
    assert low < min(peaks) and max(peaks) < high


def test_predicted_peaks_quoted_in_the_bank():
    k = np.arange(1, 400)
    assert E.predicted_ratio(k, (0.9, 0.999)).max() == pytest.approx(6.6, abs=0.05)
    assert int(np.argmax(E.predicted_ratio(k, (0.9, 0.999)))) + 1 == 12
    assert E.predicted_ratio(k, (0.9, 0.99)).max() == pytest.approx(2.1, abs=0.05)
    assert E.predicted_ratio(k, (0.9, 0.95)).max() == pytest.approx(1.1, abs=0.05)


def test_lamb_demo_relative_steps():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(8, 16, rng=rng), nn.Tanh(), nn.Linear(16, 4, rng=rng))
    for layer in (model[0], model[2]):
        layer.bias.value[...] = 0.1
    opt = LAMB(model.parameters(), lr=1e-2)
    model(rng.standard_normal((32, 8)))
    model.backward(rng.standard_normal((32, 4)))
    before = [p.value.copy() for p in model.parameters()]
    opt.step()
    for p, b in zip(model.parameters(), before, strict=True):
        assert np.linalg.norm(p.value - b) / np.linalg.norm(b) == pytest.approx(1e-2, rel=1e-9)


def test_scale_bank_quotes_the_measured_numbers():
    entries = {e.id: e for e in bank.load().by_topic("SCALE")}
    assert "from $S = 2^{12}$ on" in entries["SCALE-02"].answer
    assert "28 at the start to 177 after ten" in entries["SCALE-05a"].answer
    assert "up to 6.6 at 0.999" in entries["SCALE-06a"].answer
    assert "6.1 times" in entries["SCALE-06"].answer and "1.1 with" in entries["SCALE-06"].answer
