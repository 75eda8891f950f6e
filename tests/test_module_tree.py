"""The module tree: names, buffers, ``state_dict`` and ``load_state_dict`` (``torch.nn.Module`` semantics).

Expected names and values are written out here, never produced by the code under test.
"""

import numpy as np
import pytest

from gdcourse import losses, nn
from gdcourse.optim import SGD


def model_with_everything(seed=0):
    """Linear, a nested block, BatchNorm (buffers) and Dropout (an rng): every kind of state."""
    g = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(4, 6, rng=g), nn.ReLU(),
        nn.Residual(nn.Sequential(nn.Linear(6, 6, rng=g), nn.Tanh())),
        nn.BatchNorm1d(6), nn.Dropout(0.5, rng=seed + 100), nn.Linear(6, 3, rng=g),
    )


PARAMETER_NAMES = ["0.weight", "0.bias", "2.block.0.weight", "2.block.0.bias", "3.gamma", "3.beta",
                   "5.weight", "5.bias"]
BUFFER_NAMES = ["3.running_mean", "3.running_var", "3.num_batches_tracked"]


def train_steps(model, steps, seed=1):
    g = np.random.default_rng(seed)
    opt, loss = SGD(model.parameters(), lr=0.1, momentum=0.9), losses.CrossEntropyLoss()
    for _ in range(steps):
        opt.zero_grad()
        loss.forward(model(g.standard_normal((8, 4))), g.integers(0, 3, 8))
        model.backward(loss.backward())
        opt.step()
    return opt


# --- walking the tree -------------------------------------------------------------------

def test_named_parameters_are_dotted_paths_in_pytorch_order():
    model = model_with_everything()
    named = list(model.named_parameters())
    assert [name for name, _ in named] == PARAMETER_NAMES
    assert named[2][1] is model[2].block[0].weight
    assert [p for _, p in named] == model.parameters()  # parameters() is built on it
    assert [name for name, _ in model[2].named_parameters(prefix="2")] == ["2.block.0.weight", "2.block.0.bias"]
    assert [name for name, _ in model.named_parameters(recurse=False)] == []  # Sequential owns none itself


def test_named_modules_walks_depth_first_from_the_root():
    model = model_with_everything()
    paths = [path for path, _ in model.named_modules()]
    assert paths == ["", "0", "1", "2", "2.block", "2.block.0", "2.block.1", "3", "4", "5"]
    assert list(model.modules())[5] is model[2].block[0]
    assert [name for name, _ in model.named_children()] == ["0", "1", "2", "3", "4", "5"]
    assert list(model[2].children()) == [model[2].block]


def test_shared_parameters_and_modules_are_listed_once_unless_asked():
    shared = nn.Linear(3, 3, rng=0)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert [path for path, _ in model.named_modules()] == ["", "0", "1"]
    assert [path for path, _ in model.named_modules(remove_duplicate=False)] == ["", "0", "1", "2"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_modules_in_list_attributes_are_named_attr_dot_index():
    class Tower(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = [nn.Linear(2, 2, rng=0), nn.Linear(2, 2, rng=1)]

        def forward(self, x):
            return x

        def backward(self, dy, input_grad=True):
            return dy

    names = [name for name, _ in Tower().named_parameters()]
    assert names == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]


def test_buffers_are_batchnorm_running_statistics_and_not_parameters():
    model = model_with_everything()
    named = dict(model.named_buffers())
    assert list(named) == BUFFER_NAMES
    assert named["3.running_mean"] is model[3].running_mean
    assert named["3.num_batches_tracked"] == 0
    assert not any(p.value is model[3].running_mean for p in model.parameters())
    assert len(model.buffers()) == 3


def test_register_buffer_accepts_arrays_and_ints_only():
    layer = nn.Identity()
    layer.register_buffer("count", 3)
    assert dict(layer.named_buffers()) == {"count": 3}
    with pytest.raises(TypeError, match=r"'scale': expected a numpy array or an int, got float"):
        layer.register_buffer("scale", 0.5)


# --- state_dict ---------------------------------------------------------------------------

def test_state_dict_holds_parameters_buffers_and_rng_states_as_copies():
    model = model_with_everything()
    state = model.state_dict()
    assert list(state) == [*PARAMETER_NAMES[:6], *BUFFER_NAMES, "4.rng", *PARAMETER_NAMES[6:]]
    assert state["0.weight"].shape == (4, 6) and state["3.running_var"].shape == (6,)
    np.testing.assert_array_equal(state["3.running_var"], np.ones(6))
    assert state["3.num_batches_tracked"].shape == () and state["3.num_batches_tracked"].dtype == np.int64
    assert state["4.rng"]["bit_generator"] == "PCG64"
    assert state["4.rng"] == np.random.default_rng(100).bit_generator.state  # Dropout(rng=seed + 100)
    assert not np.shares_memory(state["0.weight"], model[0].weight.value)  # copies, not views
    assert not np.shares_memory(state["3.running_mean"], model[3].running_mean)
    before = state["0.weight"].copy()
    train_steps(model, 2)
    np.testing.assert_array_equal(state["0.weight"], before)  # training does not reach the saved state
    assert state["3.num_batches_tracked"] == 0 and model[3].num_batches_tracked == 2


def test_round_trip_restores_outputs_running_statistics_and_dropout_masks():
    model = model_with_everything()
    train_steps(model, 3)
    state = model.state_dict()
    x = np.random.default_rng(7).standard_normal((8, 4))
    expected = model(x)  # train mode: a fresh dropout mask, and the running statistics move
    expected_mean = model[3].running_mean.copy()
    train_steps(model, 2, seed=5)  # perturb everything: parameters, statistics, the rng
    assert not np.array_equal(model(x), expected)
    model.load_state_dict(state)
    np.testing.assert_array_equal(model(x), expected)  # the same mask: the rng state came back
    np.testing.assert_array_equal(model[3].running_mean, expected_mean)
    assert model[3].num_batches_tracked == 4  # 3 training steps, then the forward above

    other = model_with_everything(seed=9)  # different weights and a different dropout seed
    other.load_state_dict(state)
    np.testing.assert_array_equal(other(x), expected)
    other.eval()
    model.eval()
    np.testing.assert_array_equal(other(x), model(x))


def test_load_keeps_the_packed_storage_so_an_earlier_optimizer_still_updates_the_model():
    model = model_with_everything()
    opt = SGD(model.parameters(), lr=0.5)
    storage = model[0].weight.value
    source = model_with_everything(seed=3)
    model.load_state_dict(source.state_dict())
    assert model[0].weight.value is storage
    np.testing.assert_array_equal(model[0].weight.value, source[0].weight.value)
    opt.zero_grad()
    for p in model.parameters():
        p.grad = np.ones(p.shape)
    opt.step()
    np.testing.assert_array_equal(model[0].weight.value, source[0].weight.value - 0.5)
    np.testing.assert_array_equal(model[5].bias.value, source[5].bias.value - 0.5)


def test_loaded_float32_values_keep_the_models_dtype():
    model = nn.Sequential(nn.Linear(2, 2, rng=0, dtype=np.float32))
    model.load_state_dict({"0.weight": np.arange(4.0).reshape(2, 2), "0.bias": np.zeros(2)})
    assert model[0].weight.value.dtype == np.float32
    np.testing.assert_array_equal(model[0].weight.value, [[0, 1], [2, 3]])


# --- load_state_dict errors ---------------------------------------------------------------

def test_strict_loading_lists_missing_and_unexpected_keys_and_changes_nothing():
    model = model_with_everything()
    weight = model[0].weight.value.copy()
    state = model_with_everything(seed=4).state_dict()
    del state["3.running_var"], state["5.bias"]
    state["5.scale"] = np.ones(3)
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert "missing keys: 3.running_var, 5.bias" in message
    assert "unexpected keys: 5.scale" in message
    np.testing.assert_array_equal(model[0].weight.value, weight)  # nothing loaded


def test_non_strict_loading_skips_and_returns_the_mismatched_keys():
    model = model_with_everything()
    source = model_with_everything(seed=4)
    state = {"0.weight": source[0].weight.value, "extra": np.zeros(1)}
    result = model.load_state_dict(state, strict=False)
    assert result.unexpected_keys == ["extra"]
    assert result.missing_keys == [k for k in model.state_dict() if k != "0.weight"]
    np.testing.assert_array_equal(model[0].weight.value, source[0].weight.value)


def test_shape_mismatch_names_the_key_and_both_shapes_even_when_not_strict():
    model = model_with_everything()
    bias = model[0].bias.value.copy()
    state = model.state_dict()
    state["0.bias"] = np.full(6, 5.0)
    state["5.weight"] = np.zeros((3, 6))  # transposed
    for strict in (True, False):
        with pytest.raises(RuntimeError, match=r"5\.weight: expected shape \(6, 3\), got \(3, 6\)"):
            model.load_state_dict(state, strict=strict)
    np.testing.assert_array_equal(model[0].bias.value, bias)  # the valid entries were not loaded either


def test_wrong_rng_state_and_counter_are_rejected():
    model = model_with_everything()
    state = model.state_dict()
    state["4.rng"] = np.random.Generator(np.random.MT19937(0)).bit_generator.state
    with pytest.raises(RuntimeError, match="4.rng: expected the state of a PCG64 generator, got MT19937"):
        model.load_state_dict(state)
    state = model.state_dict()
    state["3.num_batches_tracked"] = np.array([1, 2])
    with pytest.raises(RuntimeError, match="3.num_batches_tracked: expected an integer"):
        model.load_state_dict(state)


def test_load_state_dict_needs_a_mapping():
    with pytest.raises(TypeError, match="expected a mapping from paths to values, got list"):
        nn.Linear(2, 2, rng=0).load_state_dict([np.zeros((2, 2))])
