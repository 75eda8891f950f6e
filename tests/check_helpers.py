"""Helpers shared by the notebooks' check tests (tests/test_nbNN_checks.py)."""


def run(check_fn, answer):
    """Run a check; whatever the answer, it must return one of the three verdicts, never raise."""
    result = check_fn(answer)
    assert result.status in ("passed", "failed", "not done")
    return result


def assert_fails_with(check_fn, answer, *fragments):
    """The check must fail ``answer`` with a message containing every fragment."""
    result = run(check_fn, answer)
    assert result.status == "failed", result.message
    for fragment in fragments:
        assert fragment in result.message, result.message


def stub(*args, **kwargs):
    """What a student notebook holds before the exercise is done."""
    raise NotImplementedError("Exercise: replace this line with your code")
