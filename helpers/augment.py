"""Data augmentation: more varied training images from the ones we have.

An autoencoder's target is its input, so a shifted image needs a shifted target: the shifts
are made here, as copies, before training. A classifier's label does not move with the image,
so chapter 6 shifts inside the model instead (``keras.layers.RandomTranslation``, afresh every
epoch, no copies in memory)."""

from __future__ import annotations

import numpy as np


def random_shifts(images, max_shift: int, rng: np.random.Generator):
    """Move every image by up to ``max_shift`` pixels in x and y, filling with background (0).

    Works on ``(n, 28, 28)``, ``(n, 28, 28, 1)`` or flat ``(n, 784)`` arrays; returns a new
    array of the same shape and dtype.
    """
    images = np.asarray(images)
    square = images.reshape(len(images), 28, 28, -1)
    m = max_shift
    padded = np.pad(square, ((0, 0), (m, m), (m, m), (0, 0)))
    out = np.empty_like(square)
    dy, dx = rng.integers(-m, m + 1, (2, len(images)))
    for sy in range(-m, m + 1):
        for sx in range(-m, m + 1):
            idx = np.flatnonzero((dy == sy) & (dx == sx))
            out[idx] = padded[idx, m - sy:m - sy + 28, m - sx:m - sx + 28]
    return out.reshape(images.shape)
