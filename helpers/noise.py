"""Corruptions for denoising autoencoders.

All functions take float images in [0, 1] of any shape ``(n, ...)`` (``(n, 28, 28)`` or
``(n, 28, 28, 1)``) and a NumPy random generator, so a corruption is reproducible from its
seed; none modifies its input. Gaussian noise and salt and pepper are scikit-image's
(:func:`skimage.util.random_noise`, given the generator); the blanked square is written here.
Image scores live in :mod:`helpers.scores`.
"""

from __future__ import annotations

import numpy as np
from skimage.util import random_noise

__all__ = ["gaussian", "salt_and_pepper", "block_mask", "varied_damage", "CORRUPTIONS",
           "damaged_copies"]


def gaussian(images, factor, rng: np.random.Generator):
    """Add Gaussian noise, then clip to [0, 1].

    The *noise factor* is the standard deviation of the added noise in pixel units (pixels in
    [0, 1]): the notMNIST seed's ``x + factor * N(0, 1)``, so factor 0.5 adds noise whose
    standard deviation is half the black-to-white range, before clipping. ``factor`` is one
    number, or one per image (an array of ``n`` factors, or any shape that broadcasts against
    ``images``, e.g. ``(n, 1, 1, 1)``)."""
    images = np.asarray(images, dtype=np.float32)
    factor = np.asarray(factor, dtype=np.float64)
    if images.size == 0:
        return images.copy()
    if factor.ndim == 0:
        out = random_noise(images, mode="gaussian", var=float(factor) ** 2, rng=rng)
    else:
        if factor.ndim == 1:  # one factor per image
            factor = factor.reshape((-1,) + (1,) * (images.ndim - 1))
        variances = np.broadcast_to(factor ** 2, images.shape)
        if np.any(variances <= 0):
            raise ValueError("gaussian: per-image noise factors must be > 0")
        out = random_noise(images, mode="localvar", local_vars=variances, rng=rng)
    return out.astype(np.float32)


def salt_and_pepper(images, amount: float, rng: np.random.Generator):
    """Set each pixel, with probability ``amount``, to 0 or 1 (half each): about a fraction
    ``amount`` of the pixels is replaced."""
    images = np.asarray(images, dtype=np.float32)
    if images.size == 0:
        return images.copy()
    out = random_noise(images, mode="s&p", amount=amount, salt_vs_pepper=0.5, rng=rng)
    return out.astype(np.float32)


def block_mask(images, size: int, rng: np.random.Generator):
    """Blank one random ``size`` x ``size`` square of every 28 x 28 image (set it to 0)."""
    noisy = np.array(images, dtype=np.float32, copy=True)
    view = noisy.reshape(len(noisy), 28, 28)
    tops, lefts = rng.integers(0, 28 - size + 1, (2, len(noisy)))
    for img, top, left in zip(view, tops, lefts):
        img[top:top + size, left:left + size] = 0
    return noisy


def varied_damage(images, rng: np.random.Generator):
    """Damage each image one of three ways, chosen at random (a third each):
    Gaussian noise with a noise factor drawn per image from [0.3, 0.8],
    salt and pepper (20% of the pixels), or a blanked 10 x 10 square."""
    images = np.asarray(images, dtype=np.float32)
    kind = rng.integers(0, 3, len(images))
    out = np.empty_like(images)
    noisy = kind == 0
    factors = rng.uniform(0.3, 0.8, int(noisy.sum()))
    out[noisy] = gaussian(images[noisy], factors, rng)
    out[kind == 1] = salt_and_pepper(images[kind == 1], 0.2, rng)
    out[kind == 2] = block_mask(images[kind == 2], 10, rng)
    return out


# The four corruptions the book scores every denoiser on.
CORRUPTIONS = {
    "gaussian0.5": lambda x, rng: gaussian(x, 0.5, rng),
    "gaussian0.7": lambda x, rng: gaussian(x, 0.7, rng),
    "salt_pepper0.2": lambda x, rng: salt_and_pepper(x, 0.2, rng),
    "block10": lambda x, rng: block_mask(x, 10, rng),
}


def damaged_copies(images, seed: int) -> dict:
    """One copy of ``images`` per corruption in :data:`CORRUPTIONS`, each drawn
    from its own generator, ``default_rng([seed, i])``: different seeds give
    independent noise, so a validation part and a test part damaged with two
    seeds never share a noise field."""
    return {name: corrupt(images, np.random.default_rng([seed, i]))
            for i, (name, corrupt) in enumerate(CORRUPTIONS.items())}
