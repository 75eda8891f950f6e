"""Helpers for the notebooks' check tests (``tests/test_nbNN_checks.py``).

A check (``gdcourse.check.<name>``) takes the learner's answer (a function or a value; two
functions for the forward/backward exercises) and returns a ``CheckResult`` whose ``status`` is
one of :data:`VERDICTS`. Whatever the answer, a check must return a verdict, never raise.

These are plain functions, not fixtures: tests use them inside ``parametrize`` lists and in
nested helper functions. ``tests/conftest.py`` registers this module for pytest's assertion
rewriting, so a failed ``assert`` here shows the values it compared.
"""

VERDICTS = ("passed", "failed", "not done")


def run(check_fn, *answers, **options):
    """``check_fn(*answers, **options)``, asserting that it returned one of the three verdicts."""
    result = check_fn(*answers, **options)
    assert result.status in VERDICTS, result
    assert isinstance(result.message, str) and result.message, result
    return result


def assert_verdict(result, status, *fragments):
    """``result`` has ``status`` and its message contains every fragment."""
    assert result.status == status, result.message
    for fragment in fragments:
        assert fragment in result.message, result.message
    return result


def assert_passes(check_fn, *answers, **options):
    """The check passes ``answers``; returns the result (to test its message further)."""
    return assert_verdict(run(check_fn, *answers, **options), "passed")


def assert_fails_with(check_fn, answer, *fragments):
    """The check fails the single ``answer`` with a message containing every fragment."""
    return assert_verdict(run(check_fn, answer), "failed", *fragments)


def assert_pair_fails_with(check_fn, forward, backward, *fragments):
    """The check of a forward/backward exercise fails the pair with a message containing every fragment."""
    return assert_verdict(run(check_fn, forward, backward), "failed", *fragments)


def assert_not_done(check_fn, *answers, **options):
    """The check reports ``answers`` (a stub, or ``None`` for a value exercise) as not done yet."""
    return assert_verdict(run(check_fn, *answers, **options), "not done")


def stub(*args, **kwargs):
    """What a student notebook holds before the exercise is done."""
    raise NotImplementedError("Exercise: replace this line with your code")
