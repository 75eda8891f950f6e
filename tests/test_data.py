"""Tests of gdcourse.data: epochs visit every sample once, splits partition the data, toy sets are what
they claim (XOR and spirals are not linearly separable), bad input fails with a message that names it."""

import math

import numpy as np
import pytest
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from gdcourse import data as D


def index_data(n):
    """X whose single feature is the row index (as float), y the same index as int: batches reveal rows."""
    return np.arange(n, dtype=np.float64)[:, None], np.arange(n)


def epoch_rows(X, y=None, **kwargs):
    """The row indices of every batch of one epoch (read back from the index-encoding X)."""
    return [xb[:, 0].astype(int) for xb in D.batches(X, y, **kwargs)] if y is None else \
        [xb[:, 0].astype(int) for xb, _ in D.batches(X, y, **kwargs)]


# ---------------------------------------------------------------- batches without replacement

def test_each_sample_exactly_once_per_epoch_with_partial_last_batch():
    X, y = index_data(103)
    sizes, rows = [], []
    for xb, yb in D.batches(X, y, batch_size=10, rng=0):
        np.testing.assert_array_equal(xb[:, 0].astype(int), yb)  # X and y rows stay aligned
        sizes.append(len(xb))
        rows.append(yb)
    assert sizes == [10] * 10 + [3]
    np.testing.assert_array_equal(np.sort(np.concatenate(rows)), np.arange(103))


def test_drop_last_skips_only_the_partial_batch():
    X, y = index_data(103)
    rows = epoch_rows(X, y, batch_size=10, drop_last=True, rng=0)
    assert [len(r) for r in rows] == [10] * 10
    seen = np.concatenate(rows)
    assert len(np.unique(seen)) == 100  # no repeats, 3 samples left out


def test_shuffle_false_keeps_order_and_batch_larger_than_data_is_one_batch():
    X, y = index_data(25)
    rows = epoch_rows(X, y, batch_size=10, shuffle=False)
    np.testing.assert_array_equal(np.concatenate(rows), np.arange(25))
    assert [len(r) for r in epoch_rows(X, batch_size=100, rng=0)] == [25]


def test_without_y_yields_feature_batches_only():
    X, _ = index_data(7)
    out = list(D.batches(X, batch_size=3, rng=0))
    assert all(isinstance(b, np.ndarray) for b in out)
    assert [b.shape for b in out] == [(3, 1), (3, 1), (1, 1)]


def test_same_seed_same_order_other_seed_other_order_and_fresh_order_each_epoch():
    X, y = index_data(50)
    first = np.concatenate(epoch_rows(X, y, batch_size=8, rng=3))
    np.testing.assert_array_equal(first, np.concatenate(epoch_rows(X, y, batch_size=8, rng=3)))
    assert not np.array_equal(first, np.concatenate(epoch_rows(X, y, batch_size=8, rng=4)))
    gen = np.random.default_rng(3)
    epoch1 = np.concatenate(epoch_rows(X, y, batch_size=8, rng=gen))
    epoch2 = np.concatenate(epoch_rows(X, y, batch_size=8, rng=gen))
    assert not np.array_equal(epoch1, epoch2)


def test_batches_are_copies():
    X, y = index_data(6)
    xb, _ = next(D.batches(X, y, batch_size=6, shuffle=False))
    xb[:] = -1.0
    np.testing.assert_array_equal(X[:, 0], np.arange(6))


def test_num_batches_by_hand():
    assert D.num_batches(100, 32) == 4
    assert D.num_batches(100, 32, drop_last=True) == 3
    assert D.num_batches(96, 32) == D.num_batches(96, 32, drop_last=True) == 3
    assert D.num_batches(5, 32, drop_last=True) == 0


# ---------------------------------------------------------------- batches with replacement

def test_with_replacement_same_batch_sizes_but_repeats():
    X, y = index_data(103)
    rows = epoch_rows(X, y, batch_size=10, replacement=True, rng=0)
    assert [len(r) for r in rows] == [10] * 10 + [3]
    seen = np.concatenate(rows)
    assert seen.min() >= 0 and seen.max() < 103
    assert len(np.unique(seen)) < 103  # some sample came twice, so some other never came


def test_with_replacement_misses_about_one_over_e_of_the_samples():
    # Expected unseen fraction after N draws from N: (1 - 1/N)^N = 0.36770 for N = 1000 (-> 1/e).
    # One epoch's count U of unseen samples has Var U = N(1-1/N)^N + N(N-1)(1-2/N)^N - N²(1-1/N)^2N
    # (occupancy), so the fraction's standard deviation is 0.0099; the mean of 50 epochs has 0.0014,
    # and a tolerance of 0.007 is five standard deviations.
    n = 1000
    expected = (1 - 1 / n) ** n
    X, y = index_data(n)
    gen = np.random.default_rng(0)
    unseen = [1 - len(np.unique(np.concatenate(epoch_rows(X, y, batch_size=50, replacement=True, rng=gen)))) / n
              for _ in range(50)]
    assert abs(np.mean(unseen) - expected) < 0.007
    assert abs(expected - 1 / math.e) < 2e-4
    # Without replacement nothing is ever missed.
    assert len(np.unique(np.concatenate(epoch_rows(X, y, batch_size=50, rng=gen)))) == n


def test_replacement_requires_shuffle():
    X, y = index_data(10)
    with pytest.raises(ValueError, match="shuffle.*replacement=True.*shuffle=False"):
        D.batches(X, y, replacement=True, shuffle=False)


# ---------------------------------------------------------------- bad input to batches

def test_bad_batch_size_is_named_with_its_value():
    X, y = index_data(10)
    with pytest.raises(ValueError, match=r"batch_size: expected an int >= 1, got 0"):
        D.batches(X, y, batch_size=0)
    with pytest.raises(ValueError, match=r"batch_size: expected an int >= 1, got -3"):
        D.batches(X, y, batch_size=-3)
    with pytest.raises(ValueError, match=r"batch_size: expected an int, got 2\.5"):
        D.batches(X, y, batch_size=2.5)


def test_mismatched_lengths_name_both_arguments_and_lengths():
    X, y = index_data(10)
    with pytest.raises(ValueError, match=r"X and y: expected the same number of samples, got 10 and 9"):
        D.batches(X, y[:9])


def test_empty_X():
    with pytest.raises(ValueError, match=r"X: expected a non-empty array, got shape \(0, 3\)"):
        D.batches(np.zeros((0, 3)))


def test_integer_X():
    with pytest.raises(ValueError, match=r"X: expected a floating-point array, got dtype int64"):
        D.batches(np.arange(10, dtype=np.int64)[:, None])


def test_nan_X_says_how_many_and_where():
    X, _ = index_data(10)
    X[4, 0] = np.nan
    with pytest.raises(ValueError, match=r"X: expected finite values, got 1 NaN/inf entries \(first at index \(4, 0\)"):
        D.batches(X)


# ---------------------------------------------------------------- train_val_split

def test_train_val_split_partitions_and_is_reproducible():
    X, y = index_data(100)
    X_tr, X_val, y_tr, y_val = D.train_val_split(X, y, val_fraction=0.2, rng=1)
    assert (len(X_tr), len(X_val)) == (80, 20)
    np.testing.assert_array_equal(np.sort(np.concatenate([y_tr, y_val])), np.arange(100))
    np.testing.assert_array_equal(X_val[:, 0].astype(int), y_val)
    again = D.train_val_split(X, y, val_fraction=0.2, rng=1)
    np.testing.assert_array_equal(again[3], y_val)
    assert not np.array_equal(D.train_val_split(X, y, val_fraction=0.2, rng=2)[3], y_val)


def test_train_val_split_stratified_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    X = np.arange(100, dtype=np.float64)[:, None]
    _, _, _, y_val = D.train_val_split(X, y, val_fraction=0.2, rng=0, stratify=True)
    np.testing.assert_array_equal(np.bincount(y_val), [10, 6, 4])


def test_train_val_split_bad_fraction():
    X, y = index_data(10)
    with pytest.raises(ValueError, match=r"val_fraction: expected a number in \(0, 1\), got 1\.5"):
        D.train_val_split(X, y, val_fraction=1.5)
    with pytest.raises(ValueError, match="val_fraction: 0.95 of 10 samples leaves an empty part"):
        D.train_val_split(X, y, val_fraction=0.95)


# ---------------------------------------------------------------- digits

@pytest.fixture(scope="module")
def digits():
    return D.load_digits(test_fraction=0.25, val_fraction=0.15, rng=0)


def test_digits_shapes_and_range(digits):
    parts = [(digits.X_train, digits.y_train), (digits.X_val, digits.y_val), (digits.X_test, digits.y_test)]
    assert sum(len(X) for X, _ in parts) == 1797
    assert len(digits.X_test) == math.ceil(0.25 * 1797)
    assert len(digits.X_val) == round(0.15 * 1797)
    for X, y in parts:
        assert X.shape[1] == 64 and X.dtype == np.float64 and y.dtype == np.int64 and len(X) == len(y)
    X_all = np.concatenate([X for X, _ in parts])
    assert X_all.min() == 0.0 and X_all.max() == 1.0  # 0..16 divided by 16
    assert digits.num_classes == 10 and digits.num_features == 64 and digits.image_shape == (8, 8)
    assert len(digits.feature_names) == 64
    assert set(np.concatenate([y for _, y in parts])) == set(range(10))


def test_digits_splits_are_stratified(digits):
    # Each digit has 174..183 images; a stratified split puts its share in each part to within 1-2 images.
    total = np.bincount(np.concatenate([digits.y_train, digits.y_val, digits.y_test]), minlength=10)
    assert np.all(np.abs(np.bincount(digits.y_test, minlength=10) - 0.25 * total) <= 1.5)
    assert np.all(np.abs(np.bincount(digits.y_val, minlength=10) - 0.15 * total) <= 2.0)


def test_digits_splits_partition_the_data(digits):
    # Compare the sorted rows (pixels and label) of the three parts with the raw data scaled by hand:
    # equal multisets mean no sample is in two parts and none is lost.
    from sklearn.datasets import load_digits as sk_load_digits

    raw = sk_load_digits()
    expected = np.c_[raw.data / 16.0, raw.target]
    got = np.concatenate([np.c_[X, y] for X, y in [(digits.X_train, digits.y_train),
                                                    (digits.X_val, digits.y_val),
                                                    (digits.X_test, digits.y_test)]])

    def sort_rows(a):
        return a[np.lexsort(a.T[::-1])]

    np.testing.assert_array_equal(sort_rows(got), sort_rows(expected))


def test_digits_deterministic_by_seed_and_default_has_no_val():
    a, b, c = D.load_digits(rng=5), D.load_digits(rng=5), D.load_digits(rng=6)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_test, c.y_test)
    assert a.X_val.shape == (0, 64) and a.y_val.shape == (0,)
    assert D.load_digits(dtype=np.float32).X_train.dtype == np.float32


def test_digits_standardized_uses_training_statistics_only(digits):
    s = digits.standardized()
    mean, std = digits.X_train.mean(axis=0), digits.X_train.std(axis=0)
    varying = std > 0
    assert (~varying).any()  # the digits have always-blank pixels: they must not turn into NaN
    np.testing.assert_allclose(s.X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(s.X_train.std(axis=0)[varying], 1.0, rtol=1e-12)
    expected_test = digits.X_test - mean
    expected_test[:, varying] /= std[varying]
    np.testing.assert_allclose(s.X_test, expected_test, rtol=1e-12, atol=1e-12)
    assert np.isfinite(s.X_val).all()
    np.testing.assert_array_equal(s.y_train, digits.y_train)


def test_standardize_by_hand_with_a_constant_feature():
    X_train = np.array([[1.0, 5.0], [3.0, 5.0]])  # column 0: mean 2, std 1; column 1: constant 5
    X_other = np.array([[4.0, 7.0]])
    train, other = D.standardize(X_train, X_other)
    np.testing.assert_array_equal(train, [[-1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(other, [[2.0, 2.0]])  # the constant feature is centered, not scaled
    with pytest.raises(ValueError, match="others\\[0\\]: expected 2 features like X_train, got 3"):
        D.standardize(X_train, np.zeros((1, 3)))


def test_digits_bad_fractions():
    with pytest.raises(ValueError, match=r"test_fraction: expected a number in \(0, 1\), got 0"):
        D.load_digits(test_fraction=0)
    with pytest.raises(ValueError, match=r"test_fraction \+ val_fraction: expected < 0.9.*0.5 \+ 0.5"):
        D.load_digits(test_fraction=0.5, val_fraction=0.5)
    with pytest.raises(ValueError, match="dtype: expected a floating-point dtype, got int32"):
        D.load_digits(dtype=np.int32)


# ---------------------------------------------------------------- toy sets

TOYS = {
    "moons": lambda n, rng: D.make_moons(n, rng=rng),
    "circles": lambda n, rng: D.make_circles(n, rng=rng),
    "spirals": lambda n, rng: D.make_spirals(n, classes=3, rng=rng),
    "xor": lambda n, rng: D.make_xor(n, rng=rng),
}
LABELS = {"moons": {0, 1}, "circles": {0, 1}, "spirals": {0, 1, 2}, "xor": {0, 1}}


@pytest.mark.parametrize("name", TOYS)
def test_toy_classification_shapes_dtypes_labels_and_seeds(name):
    X, y = TOYS[name](301, 0)
    assert X.shape == (301, 2) and X.dtype == np.float64
    assert y.shape == (301,) and y.dtype == np.int64
    assert set(np.unique(y)) == LABELS[name]
    assert np.bincount(y).max() - np.bincount(y).min() <= 2  # balanced classes
    X2, y2 = TOYS[name](301, 0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, TOYS[name](301, 1)[0])


def least_squares_accuracy(X, y):
    """Accuracy of the best linear classifier in the least-squares sense (one-vs-rest on one-hot targets)."""
    A = np.c_[X, np.ones(len(X))]
    targets = np.eye(y.max() + 1)[y]
    W = np.linalg.lstsq(A, targets, rcond=None)[0]
    return np.mean(np.argmax(A @ W, axis=1) == y)


@pytest.mark.parametrize("name", ["xor", "spirals"])
def test_xor_and_spirals_defeat_a_linear_classifier_but_not_a_nonlinear_one(name):
    # Chance is 50% (XOR) and 33% (spirals); a line cannot do much better. The labels are still a
    # clean function of position: 5-nearest-neighbours, cross-validated, gets >= 95%.
    for seed in range(3):
        X, y = TOYS[name](400, seed)
        assert least_squares_accuracy(X, y) <= 0.65
        assert cross_val_score(KNeighborsClassifier(5), X, y, cv=5).mean() >= 0.95
    X, y = TOYS["moons"](400, 0)
    assert least_squares_accuracy(X, y) >= 0.8  # contrast: moons are nearly linearly separable


def test_xor_labels_follow_the_quadrant_when_noise_is_small():
    X, y = D.make_xor(200, noise=0.05, rng=0)
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))


def test_spirals_class_count_and_bad_classes():
    X, y = D.make_spirals(10, classes=4, rng=0)
    np.testing.assert_array_equal(np.bincount(y), [3, 3, 2, 2])
    with pytest.raises(ValueError, match="classes: expected 2 <= classes <= n"):
        D.make_spirals(10, classes=1)


def test_linear_regression_targets_follow_the_true_weights():
    X, y, w, b = D.make_linear_regression(500, d=3, noise=0.0, rng=0)
    assert X.shape == (500, 3) and y.shape == (500,) and w.shape == (3,) and isinstance(b, float)
    np.testing.assert_allclose(y, X @ w + b, rtol=1e-12, atol=1e-12)
    X, y, w, b = D.make_linear_regression(20000, d=2, noise=0.5, rng=1)
    residual = y - X @ w - b
    assert abs(residual.std() - 0.5) < 0.02  # std of a 20000-sample std estimate: 0.5/sqrt(40000)
    np.testing.assert_array_equal(D.make_linear_regression(50, 2, rng=3)[1], D.make_linear_regression(50, 2, rng=3)[1])


def test_sparse_features_have_the_stated_frequencies():
    n, d = 20000, 10
    X, y, w, freq = D.make_sparse_features(n, d, density=0.01, rng=0)
    assert X.shape == (n, d) and X.dtype == np.float64 and set(np.unique(X)) <= {0.0, 1.0}
    assert freq[0] == 1.0 and math.isclose(freq[-1], 0.01)
    np.testing.assert_allclose(freq[1:] / freq[:-1], 0.01 ** (1 / (d - 1)))  # geometric
    sigma = np.sqrt(freq * (1 - freq) / n)
    assert np.all(np.abs(X.mean(axis=0) - freq) <= 5 * sigma + 1e-12)  # within 5 binomial std
    np.testing.assert_allclose(y, X @ w, rtol=1e-12, atol=1e-12)  # noise=0 by default
    np.testing.assert_array_equal(X, D.make_sparse_features(n, d, density=0.01, rng=0)[0])


def test_toy_bad_arguments():
    with pytest.raises(ValueError, match=r"noise: expected a number >= 0, got -0\.1"):
        D.make_xor(10, noise=-0.1)
    with pytest.raises(ValueError, match=r"n: expected an int >= 1, got 0"):
        D.make_moons(0)
    with pytest.raises(ValueError, match=r"density: expected a number in \(0, 1\], got 0"):
        D.make_sparse_features(10, 3, density=0)
    with pytest.raises(ValueError, match=r"factor: expected a number in \(0, 1\), got 1\.5"):
        D.make_circles(10, factor=1.5)


# ---------------------------------------------------------------- one_hot

def test_one_hot_by_hand():
    np.testing.assert_array_equal(D.one_hot([2, 0, 1], 3), [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert D.one_hot(np.array([1]), 4).dtype == np.float64


def test_one_hot_label_out_of_range():
    with pytest.raises(ValueError, match=r"y: expected labels in \[0, 2\] for 3 classes, got values from 0 to 3"):
        D.one_hot(np.array([0, 3]), 3)
