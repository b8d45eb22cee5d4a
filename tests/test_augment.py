"""helpers.augment: shifted copies of images."""

import numpy as np


def test_random_shifts_moves_content_without_wrapping():
    from helpers.augment import random_shifts

    dot = np.zeros((200, 28, 28), np.float32)
    dot[:, 0, 27] = 1  # a pixel in the top-right corner
    moved = random_shifts(dot, 2, np.random.default_rng(0))
    assert moved.shape == dot.shape and moved.dtype == dot.dtype
    kept = moved.reshape(200, -1).sum(axis=1)
    assert set(np.unique(kept)) == {0.0, 1.0} and 0 < kept.mean() < 1  # shifted out, never wrapped
    rows, cols = np.nonzero(moved.sum(axis=0))
    assert rows.max() <= 2 and cols.min() >= 25
    flat = random_shifts(dot.reshape(200, 784), 2, np.random.default_rng(0))
    assert np.array_equal(flat.reshape(200, 28, 28), moved)
