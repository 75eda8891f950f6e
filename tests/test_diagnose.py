"""gdcourse.diagnose: every injected fault shows the symptom it claims, on the numbers of the run,
and its fix removes it; cases, the text screens, the ``gdcourse diagnose`` command driven with
scripted input, and the widget driven programmatically.

Thresholds are stated per fault; they hold on every seed from 0 to 17 (checked while writing
them); the tests run three seeds.
"""

import io
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from gdcourse import cli, diagnose
from gdcourse.diagnose import BLOCKS, FAULTS, HEIGHT, WIDTH, Setup, generate, render, run_setup, sparkline
from gdcourse.widgets import diagnose as W

LN10 = math.log(10)
SEEDS = (0, 1, 2)


def runs(name, seed):
    fault = FAULTS[name]
    return run_setup(fault.broken, seed), run_setup(fault.fixed, seed)


# ---------------------------------------------------------------- the catalogue

def test_at_least_ten_faults_each_complete_and_distinct():
    required = {"lr_too_high", "lr_too_low", "dead_relu", "exploding_init", "vanishing_sigmoid", "sign_flip",
                "shuffled_labels", "no_normalization", "adam_no_warmup", "bn_train_mode_eval"}
    assert required <= set(FAULTS) and len(FAULTS) >= 10
    titles = [fault.title for fault in FAULTS.values()]
    assert len(set(titles)) == len(titles)
    for name, fault in FAULTS.items():
        assert fault.name == name
        assert fault.broken != fault.fixed and fault.fixed.changes_from(fault.broken)
        texts = (fault.what_was_wrong, fault.symptoms, fault.explanation, fault.fix, fault.tell, fault.clue)
        assert all(isinstance(text, str) and len(text) > 20 for text in texts)
        assert fault.title.lower() not in fault.clue.lower()          # the clue points, it does not name


def test_changes_from_lists_exactly_the_fields_that_differ():
    assert Setup(lr=0.5).changes_from(Setup()) == ["lr: 0.02 → 0.5"]
    assert Setup().changes_from(Setup()) == []


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_each_run_takes_less_than_1_5_seconds(name):
    broken, fixed = runs(name, 0)
    assert broken.seconds < 1.5 and fixed.seconds < 1.5, (broken.seconds, fixed.seconds)


# ---------------------------------------------------------------- every symptom, and its fix

@pytest.mark.parametrize("seed", SEEDS)
def test_lr_too_high_spikes_and_never_recovers(seed):
    broken, fixed = runs("lr_too_high", seed)
    assert np.nanmax(broken.step_loss) > 3 * broken.initial_loss
    assert broken.train_loss[-1] >= 0.9 * LN10 and broken.val_accuracy[-1] <= 0.2
    assert broken.dead_fraction("start") <= 0.05 and broken.dead_fraction("end") > 0.3  # killed by the rate
    assert broken.activations_end[-1].dead == 1 and np.all(broken.grad_norms[-1] == 0)
    assert fixed.train_loss[-1] < 0.2 * fixed.initial_loss and fixed.val_accuracy[-1] >= 0.9


@pytest.mark.parametrize("seed", SEEDS)
def test_lr_too_low_crawls_with_healthy_gradients(seed):
    broken, fixed = runs("lr_too_low", seed)
    assert broken.train_loss[-1] > 0.9 * broken.initial_loss
    assert np.all(np.diff(broken.val_loss) < 0)                                          # smooth and steady
    assert np.all(broken.grad_norms[-1] >= 0.5 * broken.grad_norms[0])      # gradients keep their size
    assert np.all(broken.grad_norms[0] > 0.01) and broken.dead_fraction() <= 0.05
    assert fixed.train_loss[-1] < 0.1 * fixed.initial_loss


@pytest.mark.parametrize("seed", SEEDS)
def test_dead_relu_units_are_dead_from_the_start_and_gradients_are_zero(seed):
    broken, fixed = runs("dead_relu", seed)
    assert broken.dead_fraction("start") >= 0.9 and broken.dead_fraction("end") >= 0.9
    assert np.all(broken.grad_norms[:, :-1] == 0)       # every hidden weight gradient, every checkpoint
    assert np.all(np.abs(broken.train_loss - LN10) < 0.05) and np.all(broken.val_accuracy <= 0.15)
    assert fixed.dead_fraction("end") <= 0.05 and fixed.val_accuracy[-1] >= 0.9


@pytest.mark.parametrize("seed", SEEDS)
def test_exploding_init_huge_loss_and_gradients_growing_activations(seed):
    broken, fixed = runs("exploding_init", seed)
    stds = np.array([s.std for s in broken.activations_start])
    fixed_stds = np.array([s.std for s in fixed.activations_start])
    assert broken.initial_loss > 10 * LN10
    assert np.all(broken.grad_norms[0] > 10) and np.all(broken.grad_norms[0] > 100 * fixed.grad_norms[0])
    assert np.all(stds[1:] / stds[:-1] > 2)                                            # ~3x per layer
    assert (broken.diverged_at is not None and broken.diverged_at < 20) or np.max(broken.step_loss[:20]) > 1e6
    assert np.all((fixed_stds[1:] / fixed_stds[:-1] > 0.7) & (fixed_stds[1:] / fixed_stds[:-1] < 1.4))
    assert fixed.diverged_at is None and abs(fixed.initial_loss - LN10) < 0.1
    assert fixed.train_loss[-1] < 0.3 * fixed.initial_loss


@pytest.mark.parametrize("seed", SEEDS)
def test_vanishing_gradients_first_layer_about_1e_minus_5_of_the_last(seed):
    broken, fixed = runs("vanishing_sigmoid", seed)
    ratios = broken.grad_norms[:, 0] / broken.grad_norms[:, -1]                          # at every checkpoint
    assert np.all((ratios > 1e-6) & (ratios < 1e-4))                                    # about 1e-5
    assert broken.train_loss[-1] > LN10 - 0.1 and broken.val_accuracy[-1] <= 0.15
    assert broken.dead_fraction() == 0
    assert np.all(fixed.grad_norms[:, 0] > 0.05 * fixed.grad_norms[:, -1])
    assert fixed.train_loss[-1] < 0.5 * fixed.initial_loss


@pytest.mark.parametrize("seed", SEEDS)
def test_sign_flip_training_loss_increases(seed):
    broken, fixed = runs("sign_flip", seed)
    assert np.all(np.diff(broken.train_loss) > 0) and broken.train_loss[-1] > 1.5 * broken.initial_loss
    assert np.all(broken.train_accuracy <= 0.15)
    assert np.all(np.diff(fixed.train_loss) < 0) and fixed.train_loss[-1] < 0.85 * fixed.initial_loss


@pytest.mark.parametrize("seed", SEEDS)
def test_shuffled_labels_train_accuracy_rises_while_validation_stays_at_chance(seed):
    broken, fixed = runs("shuffled_labels", seed)
    assert broken.train_accuracy[0] <= 0.2 and broken.train_accuracy[-1] >= 0.9
    # near chance: a random permutation leaves about 1 label in 10 right by coincidence, more on some seeds
    # (31 of 200 on seed 1, whose first checkpoint reaches 20%)
    assert np.all(broken.val_accuracy <= 0.25) and np.median(broken.val_accuracy) <= 0.15
    assert broken.val_loss[-1] > broken.val_loss[0]
    assert fixed.val_accuracy[-1] >= 0.85


@pytest.mark.parametrize("seed", SEEDS)
def test_missing_normalization_wide_activations_large_gradients_unsteady_loss(seed):
    broken, fixed = runs("no_normalization", seed)
    assert broken.activations_start[0].std >= 3 * fixed.activations_start[0].std
    assert broken.grad_norms[0, 0] >= 5 * fixed.grad_norms[0, 0]
    jumps, fixed_jumps = np.abs(np.diff(broken.step_loss)), np.abs(np.diff(fixed.step_loss))
    assert jumps.mean() > 3 * fixed_jumps.mean() and jumps.max() > 3 * fixed_jumps.max()     # up and down
    assert np.nanmax(fixed.step_loss) <= 1.1 * fixed.initial_loss
    assert broken.train_loss[-1] >= 3 * fixed.train_loss[-1]


@pytest.mark.parametrize("seed", SEEDS)
def test_adam_without_warmup_spikes_early_above_the_initial_loss(seed):
    broken, fixed = runs("adam_no_warmup", seed)
    assert np.max(broken.step_loss[1:15]) > 2.5 * broken.initial_loss                # 2.7x to 7x over seeds 0-17
    assert broken.train_loss[-1] < 0.1 * broken.initial_loss                           # then it recovers
    assert np.max(fixed.step_loss[1:]) <= 1.2 * fixed.initial_loss
    assert fixed.train_loss[-1] < 0.1 * fixed.initial_loss


@pytest.mark.parametrize("seed", SEEDS)
def test_batch_norm_in_train_mode_at_eval_depends_on_the_batch_composition(seed):
    broken, fixed = runs("bn_train_mode_eval", seed)
    assert broken.train_accuracy[-1] >= 0.95
    assert broken.val_accuracy[-1] <= fixed.val_accuracy[-1] - 0.3          # lower than in eval mode
    assert abs(broken.val_accuracy_reshuffled - broken.val_accuracy[-1]) >= 0.3         # order changes it
    assert fixed.val_accuracy_reshuffled == fixed.val_accuracy[-1] and fixed.val_accuracy[-1] >= 0.9
    np.testing.assert_array_equal(broken.step_loss, fixed.step_loss)                   # training is the same


@pytest.mark.parametrize("seed", SEEDS)
def test_missing_zero_grad_gradient_norm_keeps_growing(seed):
    broken, fixed = runs("no_zero_grad", seed)
    assert np.nanmedian(broken.step_grad_norm[-20:]) > 100 * broken.step_grad_norm[0]
    assert np.nanmax(broken.step_loss) > 10 * broken.initial_loss
    assert fixed.step_grad_norm[-10:].mean() < fixed.step_grad_norm[:10].mean()
    assert fixed.val_accuracy[-1] >= 0.9


def test_bn_eval_in_train_mode_really_uses_batch_statistics():
    """Independent of the runs: the same images give different outputs in train mode in different batches."""
    model = diagnose.build_model(Setup(batch_norm=True), np.random.default_rng(0))
    X = np.random.default_rng(1).standard_normal((64, 64))
    model.train()
    together = model(X[:32])
    mixed = model(np.concatenate([X[:16], X[32:48]]))
    assert not np.allclose(together[:16], mixed[:16])
    model.eval()
    np.testing.assert_allclose(model(X[:32])[:16], model(np.concatenate([X[:16], X[32:48]]))[:16])


# ---------------------------------------------------------------- runs and cases

def test_runs_are_deterministic_and_cached():
    setup = FAULTS["lr_too_low"].broken
    first = run_setup(setup, 5)
    assert run_setup(setup, 5) is first
    run_setup.cache_clear()
    again = run_setup(setup, 5)
    assert again is not first
    np.testing.assert_array_equal(again.step_loss, first.step_loss)
    np.testing.assert_array_equal(again.grad_norms, first.grad_norms)
    assert not np.array_equal(run_setup(setup, 6).step_loss, first.step_loss)


def test_run_arrays_are_read_only_and_shapes_agree():
    broken, _ = runs("vanishing_sigmoid", 0)
    with pytest.raises(ValueError):
        broken.step_loss[0] = 0.0
    setup = broken.setup
    steps_per_epoch = -(-setup.n_train // setup.batch_size)
    assert broken.num_steps == setup.epochs * steps_per_epoch
    assert broken.grad_norms.shape == (len(broken.checkpoint_steps), len(setup.hidden) + 1)
    assert len(broken.val_loss) == len(broken.checkpoint_steps) - 1 == len(broken.val_accuracy)
    np.testing.assert_array_equal(broken.checkpoint_steps, broken.checkpoint_epochs * steps_per_epoch)
    assert len(broken.layer_names) == len(setup.hidden) + 1 and broken.layer_names[0] == "64→32"


def test_long_runs_measure_at_most_about_ten_checkpoints():
    broken, _ = runs("shuffled_labels", 0)                       # 40 epochs: every 4th
    np.testing.assert_array_equal(broken.checkpoint_epochs, np.arange(0, 41, 4))
    assert len(broken.train_loss) == 40


def test_a_diverged_run_ends_in_nan_and_has_no_end_statistics():
    broken, _ = runs("exploding_init", 1)
    assert broken.diverged_at is not None and math.isnan(broken.step_loss[-1])
    assert broken.activations_end == () and math.isnan(broken.dead_fraction("end"))


def test_generate_is_deterministic_and_cycles_through_all_faults():
    assert {generate(seed).fault.name for seed in range(len(FAULTS))} == set(FAULTS)
    assert {generate(seed).fault.name for seed in range(len(FAULTS), 2 * len(FAULTS))} == set(FAULTS)
    assert generate(3).fault is generate(3).fault and generate(3).broken is generate(3).broken
    case = generate(4, fault="sign_flip")
    assert case.fault.name == "sign_flip" and case.broken.seed == case.fixed.seed == 4


def test_generate_rejects_bad_arguments():
    with pytest.raises(ValueError, match="seed"):
        generate(-1)
    with pytest.raises(ValueError, match="seed"):
        generate(1.5)
    with pytest.raises(ValueError, match="fault: expected one of"):
        generate(0, fault="gremlins")
    with pytest.raises(TypeError, match="setup"):
        run_setup("lr_too_high")


def test_case_resolves_names_titles_and_numbers():
    case = generate(0, fault="dead_relu")
    number = case.choices.index("dead_relu") + 1
    answers = ("dead_relu", "Dead-ReLU", "dead ReLUs (negative bias)", number, str(number), f" {number} ")
    for answer in answers:
        assert case.resolve(answer) == "dead_relu" and case.is_correct(answer), answer
    for answer in ("nonsense", 0, len(FAULTS) + 1, None, 2.0, True):
        assert case.resolve(answer) is None
    assert not case.is_correct("lr_too_low")


# ---------------------------------------------------------------- text

def test_sparkline_by_hand():
    assert sparkline(np.arange(8.0), width=8) == BLOCKS
    assert sparkline([1.0, 10.0, 100.0], width=3, log=True, charset="abc") == "abc"
    assert sparkline([1.0, np.nan, 3.0], width=3, charset="ab") == "a!b"
    assert sparkline([], width=5) == ""
    assert sparkline([np.nan, np.inf], width=2) == "!!"
    assert sparkline([0.0, 1.0], width=2, log=True, charset="ab") == "!a"            # log of 0
    assert sparkline([0.1, 0.5], width=2, lo=0.0, hi=1.0, charset="abcde") == "ac"
    assert sparkline([2.30, 2.31, 2.29], width=3, log=True, min_span=0.3, charset="abcdefg") == "ddd"
    # 8 values in 4 bins: means 0.5, 2.5, 4.5, 6.5
    assert sparkline(np.arange(8.0), width=4, charset="abcd") == "abcd"


def test_every_screen_fits_80_by_24():
    for seed, name in enumerate(FAULTS):
        case = generate(seed, fault=name)
        symptoms = diagnose.symptom_lines(case.broken, seed) + ["", "What is the most likely cause?"]
        screen = symptoms + diagnose.choice_lines() + ["Your diagnosis (1-11, q to quit): "]
        assert len(screen) <= HEIGHT and max(map(len, screen)) <= WIDTH, name
        wrong = next(other for other in FAULTS if other != name)
        for answer in (name, wrong):
            outcome = diagnose.outcome_lines(case, answer) + ["Enter: next case (seed 1) · q: quit "]
            assert len(outcome) <= HEIGHT and max(map(len, outcome)) <= WIDTH, (name, answer)


def test_symptom_lines_show_the_numbers_of_the_run():
    case = generate(0, fault="vanishing_sigmoid")
    text = "\n".join(diagnose.symptom_lines(case.broken, 0, charset=diagnose.ASCII_LEVELS))
    assert f"{case.broken.initial_loss:.3g}" in text
    assert render._number(case.broken.grad_norms[0, 0]) in text                     # 1.5e-6 style
    assert "Sigmoid layer" in text and "grad norm/layer" in text
    assert all(ch in diagnose.ASCII_LEVELS + "!" for ch in text.splitlines()[2].split()[-1])


def test_outcome_lines_explain_and_show_the_fixed_run():
    case = generate(0, fault="sign_flip")
    right = "\n".join(diagnose.outcome_lines(case, "sign_flip"))
    assert right.startswith("Right: sign flipped") and "Fix:" in right and "flip_gradient_sign" in right
    wrong = " ".join(diagnose.outcome_lines(case, "lr_too_low"))
    assert "Not this time" in wrong and FAULTS["lr_too_low"].tell.split()[0] in wrong
    assert f"{case.fixed.train_accuracy[-1]:.1%}" in wrong


# ---------------------------------------------------------------- the command

def play(argv, replies):
    """Run ``gdcourse diagnose`` with scripted replies (strings; an exception instance is raised)."""
    replies = list(replies)
    prompts = []

    def input_fn(prompt):
        prompts.append(prompt)
        if not replies:
            raise EOFError
        reply = replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    out, err = io.StringIO(), io.StringIO()
    code = diagnose.main(argv, input_fn=input_fn, out=out, err=err)
    return code, out.getvalue(), err.getvalue(), prompts


def number_of(name):
    return str(list(FAULTS).index(name) + 1)


def test_command_right_answer_then_quit():
    case = generate(2)
    code, out, err, prompts = play(["--seed", "2"], [number_of(case.fault.name), "q"])
    assert code == 0 and err == ""
    assert "Training case 2" in out and "Right:" in out and case.fault.explanation.split()[0] in out
    assert "The fixed run" in out and len(prompts) == 2


def test_command_wrong_answer_names_the_real_fault_and_the_tell():
    case = generate(2)
    wrong = next(name for name in FAULTS if name != case.fault.name)
    code, out, _, _ = play(["--seed", "2"], [number_of(wrong), "q"])
    assert code == 0 and "Not this time" in out and case.fault.title in out


def test_command_re_asks_on_invalid_input_and_enter_goes_to_the_next_case():
    first, second = generate(7), generate(8)
    code, out, _, prompts = play(["--seed", "7"], ["x", "99", "", number_of(first.fault.name), "",
                                                   number_of(second.fault.name), "q"])
    assert code == 0
    assert out.count("Please type a number from 1 to 11") == 3
    assert "Training case 8" in out and out.count("Right:") == 2


def test_command_fault_option_keeps_the_fault():
    code, out, _, _ = play(["--seed", "3", "--fault", "dead-relu"], [number_of("dead_relu"), "", "q"])
    assert code == 0 and out.count("Right:") == 1 and "Training case 4" in out


def test_command_end_of_input_exits_cleanly():
    code, out, err, _ = play(["--seed", "0"], [])
    assert code == 0 and err == "" and "Traceback" not in out


def test_command_ctrl_c_exits_130():
    code, out, err, _ = play(["--seed", "0"], [KeyboardInterrupt()])
    assert code == 130 and "interrupted" in err


def test_command_ctrl_c_after_answering():
    code, out, err, _ = play(["--seed", "0"], [number_of(generate(0).fault.name), KeyboardInterrupt()])
    assert code == 130 and "Right:" in out and "interrupted" in err


def test_command_list():
    code, out, _, prompts = play(["--list"], [])
    lines = out.strip().splitlines()
    assert code == 0 and prompts == [] and len(lines) == len(FAULTS)
    assert lines[0].split()[:2] == ["1.", "lr_too_high"]


def test_command_uses_ascii_sparklines_on_a_non_utf8_stream():
    code, out, _, _ = play(["--seed", "0"], ["q"])
    assert code == 0 and not any(block in out for block in BLOCKS)


def test_command_draws_a_random_seed_when_none_is_given():
    code, out, _, _ = play([], ["q"])
    assert code == 0 and "Training case " in out


@pytest.mark.parametrize("argv, message", [
    (["diagnose", "--seed", "-1"], "expected a whole number >= 0, got -1"),
    (["diagnose", "--seed", "abc"], "expected a whole number >= 0, got 'abc'"),
    (["diagnose", "--fault", "gremlins"], "unknown fault 'gremlins'; choose from lr_too_high"),
    (["diagnose", "--colour"], "unrecognized arguments"),
])
def test_command_bad_arguments_exit_2_with_a_clear_message(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_command_is_registered_in_the_cli():
    assert "gdcourse.diagnose" in cli.COMMAND_MODULES
    args = cli.build_parser().parse_args(["diagnose", "--seed", "5", "--fault", "sign_flip"])
    assert args.run is diagnose.run_diagnose and args.seed == 5 and args.fault == "sign_flip"


# ---------------------------------------------------------------- the widget

def test_widget_shows_a_case_and_checks_a_right_answer():
    widget = W.diagnose_widget(seed=8)
    assert widget.case.fault.name == "bn_train_mode_eval" and widget.seed == 8
    assert widget.image.value[:4] == b"\x89PNG" and len(widget.fixed_image.value) == 0
    assert widget.verdict is None
    assert widget.check() is None and "Choose a cause" in widget.feedback.value
    widget.choice.value = "bn_train_mode_eval"
    widget.check_button.click()
    assert widget.verdict is True and "Right" in widget.feedback.value
    assert "model.eval()" in widget.feedback.value
    assert bytes(widget.fixed_image.value)[:4] == b"\x89PNG" and widget.fixed_image.layout.display == ""


def test_widget_wrong_answer_then_new_case():
    widget = W.diagnose_widget(seed=8)
    first_image = bytes(widget.image.value)
    widget.choice.value = "lr_too_low"
    assert widget.check() is False and "Not this time" in widget.feedback.value
    assert html_escaped(FAULTS["lr_too_low"].tell) in widget.feedback.value
    widget.new_button.click()
    assert widget.seed == 9 and widget.case.fault.name == generate(9).fault.name
    assert bytes(widget.image.value) != first_image and widget.choice.value is None
    assert widget.feedback.value == "" and len(widget.fixed_image.value) == 0 and widget.verdict is None


def test_widget_with_a_fixed_fault():
    widget = W.diagnose_widget(seed=0, fault="dead_relu")
    widget.new_case()
    assert widget.case.fault.name == "dead_relu" and widget.seed == 1


def html_escaped(text):
    import html
    return html.escape(text)
