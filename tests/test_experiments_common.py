"""The shared experiment scaffolding: the MLP builder, the digits split, cached runs, ``show``."""

import numpy as np
import pytest

from gdcourse import nn, show
from gdcourse.experiments.common import cached, digits, mlp, read_only, trained_model


def _types(model):
    return [type(layer).__name__ for layer in model.layers]


def test_mlp_layers_in_order():
    model = mlp((5, 7, 6, 3), activation="tanh", dropout=0.2, rng=0)
    assert _types(model) == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout", "Linear"]
    assert [(m.in_features, m.out_features) for m in model.layers if isinstance(m, nn.Linear)] == [
        (5, 7), (7, 6), (6, 3)]
    assert model(np.ones((4, 5))).shape == (4, 3)


def test_mlp_norm_drops_hidden_bias_and_final_activation():
    model = mlp((4, 8, 2), norm="layer", final_activation=True, rng=0)
    assert _types(model) == ["Linear", "LayerNorm", "ReLU", "Linear", "ReLU"]
    assert model.layers[0].bias is None and model.layers[3].bias is not None


def test_mlp_same_seed_same_weights_and_out_rng_independent_of_depth():
    a, b = mlp((3, 4, 2), rng=5), mlp((3, 4, 2), rng=5)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)
    c = mlp((3, 4, 2), rng=6)
    assert not np.array_equal(a.layers[0].weight.value, c.layers[0].weight.value)
    shallow = mlp((4, 4, 1), residual=True, rng=0, out_rng=9)
    deep = mlp((4, 4, 4, 4, 1), residual=True, rng=0, out_rng=9)
    np.testing.assert_array_equal(shallow.layers[-1].weight.value, deep.layers[-1].weight.value)


def test_mlp_scales_and_biases():
    base = mlp((3, 4, 2), rng=1)
    scaled = mlp((3, 4, 2), weight_gain=2.0, out_scale=0.1, hidden_bias=0.5, rng=1)
    np.testing.assert_allclose(scaled.layers[0].weight.value, 2.0 * base.layers[0].weight.value)
    np.testing.assert_allclose(scaled.layers[-1].weight.value, 0.1 * base.layers[-1].weight.value)
    np.testing.assert_array_equal(scaled.layers[0].bias.value, [0.5] * 4)
    np.testing.assert_array_equal(scaled.layers[-1].bias.value, [0.0, 0.0])


def test_mlp_residual_blocks_add_their_input():
    model = mlp((3, 3, 3, 1), residual=True, activation="identity", rng=0)
    block = model.layers[0]
    assert isinstance(block, nn.Residual)
    x = np.random.default_rng(0).standard_normal((2, 3))
    linear = block.block.layers[0]
    np.testing.assert_allclose(block(x), x + x @ linear.weight.value + linear.bias.value)


def test_mlp_input_noise_layer_in_front():
    model = mlp((3, 2), input_noise=0.3, rng=0)
    assert _types(model) == ["GaussianNoise", "Linear"]


@pytest.mark.parametrize("kwargs, match", [
    ({"sizes": (3,)}, "sizes: expected at least"),
    ({"sizes": (3, 0, 1)}, "sizes entries"),
    ({"sizes": (3, 4, 1), "activation": "swish"}, "activation: expected one of"),
    ({"sizes": (3, 4, 1), "norm": "group"}, "norm: expected one of"),
    ({"sizes": (3, 4, 5, 1), "residual": True}, "residual blocks need equal hidden widths"),
    ({"sizes": (3, 4, 1), "dropout": 1.5}, "dropout"),
])
def test_mlp_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mlp(kwargs.pop("sizes"), **kwargs)


def test_digits_split_sizes_read_only_and_standardized_on_train():
    ds = digits()
    assert (len(ds.X_train), len(ds.X_val), len(ds.X_test)) == (988, 359, 450)
    assert ds.X_train.min() >= 0 and ds.X_train.max() <= 1
    with pytest.raises(ValueError):
        ds.X_train[0, 0] = 1.0
    st = digits(standardized=True)
    np.testing.assert_array_equal(st.y_train, ds.y_train)
    used = ds.X_train.std(axis=0) > 0
    np.testing.assert_allclose(st.X_train.mean(axis=0)[used], 0.0, atol=1e-12)
    np.testing.assert_allclose(st.X_train.std(axis=0)[used], 1.0, atol=1e-12)


def test_cached_runs_once_per_seed_and_freezes_results():
    calls = []

    @cached
    def run(n, rng=0):
        calls.append(n)
        return {"draws": np.random.default_rng(rng).random(n)}

    first, again = run(3, rng=1), run(3, rng=1)
    assert first is again and calls == [3]
    with pytest.raises(ValueError):
        first["draws"][0] = 0.0
    assert run(3, rng=2) is not first and calls == [3, 3]
    generator = np.random.default_rng(1)
    fresh = run(3, rng=generator)
    np.testing.assert_array_equal(fresh["draws"], first["draws"])
    assert len(calls) == 3 and fresh["draws"].flags.writeable


def test_cached_needs_an_rng_argument():
    with pytest.raises(TypeError, match="no 'rng' argument"):
        cached(lambda n: n)


def _build(seed):
    return mlp((2, 3, 1), rng=seed)


def _train(model, seed):
    for p in model.parameters():
        p.value = p.value + 1.0


def test_trained_model_trains_once_and_hands_out_copies():
    a = trained_model(_build, _train, 0)
    np.testing.assert_allclose(a.layers[0].bias.value, 1.0)
    a.layers[0].bias.value = np.zeros(3)
    b = trained_model(_build, _train, 0)
    np.testing.assert_allclose(b.layers[0].bias.value, 1.0)  # trained once: not 2, and not a's edit


def test_trained_model_key_names_the_setting_whatever_the_callables():
    runs = []

    def train(model, seed):
        runs.append(seed)

    for _ in range(2):  # new closures each time, the same key: trained once
        trained_model(lambda seed: mlp((2, 1), rng=seed), lambda m, s: train(m, s), 3, key="two-one")
    assert runs == [3]


def test_read_only_looks_inside_containers():
    x, y = np.zeros(2), np.zeros(3)
    read_only((x, {"y": y}))
    assert not x.flags.writeable and not y.flags.writeable


def test_show_renders_the_source():
    source = show(digits)
    assert "def digits(standardized" in source.text
    assert source._repr_markdown_().startswith("`gdcourse.experiments.common.digits`\n```python\n")
    with pytest.raises(TypeError, match="expected a function, method or class"):
        show(3)
