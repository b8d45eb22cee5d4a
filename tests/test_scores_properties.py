"""helpers.scores: properties that hold for every input hypothesis draws."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from helpers import scores

FAST = settings(max_examples=60, deadline=None)


@st.composite
def counts(draw):
    n = draw(st.integers(1, 10_000))
    return draw(st.integers(0, n)), n


@st.composite
def pairs(draw, max_k=6, min_n=1, max_n=60):
    """Labels and cluster ids of the same images (cluster ids may be negative or sparse)."""
    n = draw(st.integers(min_n, max_n))
    labels = draw(arrays(np.int64, n, elements=st.integers(0, max_k - 1)))
    clusters = draw(arrays(np.int64, n, elements=st.integers(-1, max_k)))
    return labels, clusters


@FAST
@given(counts(), st.sampled_from([0.5, 0.9, 0.95, 0.99]))
def test_wilson_interval_lies_in_the_unit_interval_around_the_proportion(count, confidence):
    successes, n = count
    low, high = scores.wilson_interval(successes, n, confidence)
    assert 0 <= low <= successes / n <= high <= 1
    assert (low == 0) == (successes == 0) and (high == 1) == (successes == n)


@FAST
@given(pairs())
def test_accuracy_is_the_share_of_equal_entries(pair):
    y_true, y_pred = pair
    got = scores.accuracy(y_true, y_pred)
    manual = sum(int(a == b) for a, b in zip(y_true, y_pred)) / len(y_true)
    assert 0 <= got["value"] == manual <= 1 and got["n"] == len(y_true)
    assert got["ci_low"] <= got["value"] <= got["ci_high"]


@FAST
@given(pairs())
def test_majority_accuracy_is_never_below_hungarian(pair):
    """A matched cluster adds one label's count, at most its largest; an unmatched one adds
    nothing. So the majority accuracy bounds ACC from above, whatever the cluster count."""
    labels, clusters = pair
    acc = scores.hungarian_accuracy(labels, clusters)
    assert 0 < acc <= scores.majority_accuracy(labels, clusters) + 1e-12 <= 1 + 1e-12
    assert scores.matched_correct(labels, clusters).mean() == pytest.approx(acc)


@FAST
@given(pairs(), st.randoms(use_true_random=False))
def test_hungarian_accuracy_ignores_the_names_of_clusters_and_labels(pair, random):
    labels, clusters = pair
    acc = scores.hungarian_accuracy(labels, clusters)
    ids = np.unique(clusters)
    renamed = dict(zip(ids, random.sample(range(-50, 50), len(ids))))
    relabelled = np.array([renamed[c] for c in clusters])
    assert scores.hungarian_accuracy(labels, relabelled) == pytest.approx(acc)
    assert scores.hungarian_accuracy(clusters, labels) == pytest.approx(acc)  # symmetric


@settings(max_examples=15, deadline=None)
@given(pairs(max_k=10, min_n=2, max_n=300), st.integers(0, 2**32 - 1))
def test_bootstrap_interval_of_acc_contains_it(pair, seed):
    labels, clusters = pair
    acc = scores.hungarian_accuracy(labels, clusters)
    low, high = scores.bootstrap_interval(labels, clusters, scores.hungarian_accuracy,
                                          n_boot=500, seed=seed)
    assert 0 <= low <= acc <= high <= 1
