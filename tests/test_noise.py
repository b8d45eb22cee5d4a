"""helpers.noise: corruptions are reproducible and do what they say; scores match closed forms."""

import numpy as np
import pytest

from helpers import noise


@pytest.fixture
def images():
    return np.random.default_rng(0).random((50, 28, 28, 1)).astype(np.float32)


def test_gaussian_is_clipped_reproducible_and_scaled(images):
    a = noise.gaussian(images, 0.5, np.random.default_rng(1))
    b = noise.gaussian(images, 0.5, np.random.default_rng(1))
    assert a.dtype == np.float32 and a.shape == images.shape
    assert np.array_equal(a, b) and a.min() >= 0 and a.max() <= 1
    grey = np.full((200, 28, 28), 0.5, np.float32)  # far from the clip limits at a small factor
    assert np.std(noise.gaussian(grey, 0.05, np.random.default_rng(2)) - grey) == pytest.approx(0.05, rel=0.05)


def test_salt_and_pepper_fraction(images):
    noisy = noise.salt_and_pepper(images, 0.2, np.random.default_rng(3))
    changed = noisy != images
    assert changed.mean() == pytest.approx(0.2, abs=0.01)
    assert set(np.unique(noisy[changed])) <= {0.0, 1.0}
    assert np.mean(noisy[changed]) == pytest.approx(0.5, abs=0.03)


def test_block_mask_blanks_one_square(images):
    ones = np.ones_like(images)
    masked = noise.block_mask(ones, 8, np.random.default_rng(4))
    per_image = (masked == 0).reshape(len(masked), -1).sum(axis=1)
    assert np.all(per_image == 64)
    assert np.array_equal(ones, np.ones_like(images))  # the input is not modified


def test_varied_damage_uses_all_three_kinds_reproducibly():
    ones = np.ones((300, 28, 28, 1), np.float32)  # on white images each kind leaves its own trace
    a = noise.varied_damage(ones, np.random.default_rng(6))
    assert np.array_equal(a, noise.varied_damage(ones, np.random.default_rng(6)))
    assert a.dtype == np.float32 and a.shape == ones.shape and a.min() >= 0 and a.max() <= 1
    flat = a.reshape(len(a), -1)
    blocked = (flat == 0).sum(axis=1) == 100            # a 10 x 10 square and nothing else
    speckled = ~blocked & np.all((flat == 0) | (flat == 1), axis=1) & np.any(flat == 0, axis=1)
    gaussian = ~blocked & ~speckled & np.any((flat > 0) & (flat < 1), axis=1)
    assert np.all(blocked | speckled | gaussian)
    assert min(blocked.sum(), speckled.sum(), gaussian.sum()) > 60  # about 100 each
    assert np.array_equal(ones, np.ones_like(ones))  # the input is not modified


def test_quality_is_the_scores_module_function():
    from helpers.scores import image_quality

    assert noise.quality is image_quality


def test_quality_scores():
    clean = np.random.default_rng(5).random((4, 28, 28))
    same = noise.quality(clean, clean)
    assert same["mse"] == 0 and same["ssim"] == pytest.approx(1.0) and same["psnr"] == pytest.approx(100)
    shifted = noise.quality(clean, np.clip(clean + 0.1, 0, 1))
    assert shifted["mse"] < 0.01 + 1e-9 and shifted["psnr"] >= 20 - 1e-6 and shifted["ssim"] < 1

