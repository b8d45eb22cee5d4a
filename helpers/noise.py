"""Corruptions for denoising autoencoders.

All functions take float images in [0, 1] of any shape ``(n, ...)`` and a NumPy random
generator, so a corruption is reproducible from its seed. ``quality`` is
:func:`helpers.scores.image_quality`, kept under its old name for chapter 4.
"""

from __future__ import annotations

import numpy as np

from helpers.scores import image_quality as quality

__all__ = ["gaussian", "salt_and_pepper", "block_mask", "quality", "varied_damage"]


def gaussian(images, factor, rng: np.random.Generator):
    """Add ``factor`` x standard normal noise to every pixel, then clip to [0, 1]. ``factor`` is
    one number, or an array that broadcasts against ``images`` (e.g. one factor per image)."""
    return np.clip(images + factor * rng.standard_normal(images.shape), 0, 1).astype(np.float32)


def salt_and_pepper(images, amount: float, rng: np.random.Generator):
    """Set a fraction ``amount`` of pixels to 0 or 1 (half each)."""
    noisy = np.array(images, dtype=np.float32, copy=True)
    hit = rng.random(images.shape) < amount
    noisy[hit] = (rng.random(int(hit.sum())) < 0.5).astype(np.float32)
    return noisy


def block_mask(images, size: int, rng: np.random.Generator):
    """Blank one random ``size`` x ``size`` square of every 28 x 28 image (set it to 0)."""
    noisy = np.array(images, dtype=np.float32, copy=True)
    view = noisy.reshape(len(noisy), 28, 28)
    tops, lefts = rng.integers(0, 28 - size + 1, (2, len(noisy)))
    for img, top, left in zip(view, tops, lefts):
        img[top:top + size, left:left + size] = 0
    return noisy


def varied_damage(images, rng: np.random.Generator):
    """Damage each image one of three ways, chosen at random: Gaussian noise
    with a factor drawn from [0.3, 0.8], salt and pepper (20% of pixels), or a
    blanked 10 x 10 square."""
    kind = rng.integers(0, 3, len(images))
    factors = rng.uniform(0.3, 0.8, (len(images), 1, 1, 1)).astype(np.float32)
    out = gaussian(images, factors, rng)
    out[kind == 1] = salt_and_pepper(images[kind == 1], 0.2, rng)
    out[kind == 2] = block_mask(images[kind == 2], 10, rng)
    return out
