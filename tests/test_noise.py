"""helpers.noise: corruptions are reproducible, leave their input alone and do what they say."""

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


def test_varied_damage_on_images_without_a_channel_axis():
    """Issue 26: (n, 28, 28) input once broadcast the per-image factors to (n, n, 28, 28)."""
    ones = np.ones((400, 28, 28), np.float32)
    a = noise.varied_damage(ones, np.random.default_rng(6))
    assert a.shape == ones.shape and a.dtype == np.float32
    with_channel = noise.varied_damage(ones[..., None], np.random.default_rng(6))
    assert np.array_equal(a, with_channel[..., 0])  # the same damage either way


def test_per_image_factors_set_each_images_noise_level():
    grey = np.full((3, 28, 28, 1), 0.5, np.float32)  # far from the clip limits at small factors
    factors = np.array([0.01, 0.05, 0.1])
    noisy = noise.gaussian(grey, factors, np.random.default_rng(8))
    spread = (noisy - grey).reshape(3, -1).std(axis=1)
    assert spread == pytest.approx(factors, rel=0.15)
    same = noise.gaussian(grey, factors[:, None, None, None], np.random.default_rng(8))
    assert np.array_equal(noisy, same)
    with pytest.raises(ValueError):
        noise.gaussian(grey, np.zeros(3), np.random.default_rng(8))


def test_gaussian_and_salt_and_pepper_are_scikit_images():
    from skimage.util import random_noise

    img = np.random.default_rng(9).random((5, 28, 28)).astype(np.float32)
    ours = noise.gaussian(img, 0.3, np.random.default_rng(10))
    theirs = random_noise(img, mode="gaussian", var=0.09, rng=np.random.default_rng(10))
    assert np.allclose(ours, theirs, atol=1e-6)
    ours = noise.salt_and_pepper(img, 0.2, np.random.default_rng(11))
    theirs = random_noise(img, mode="s&p", amount=0.2, rng=np.random.default_rng(11))
    assert np.array_equal(ours, theirs.astype(np.float32))


def test_empty_input_and_inputs_left_alone():
    empty = np.zeros((0, 28, 28, 1), np.float32)
    for corrupt in noise.CORRUPTIONS.values():
        assert corrupt(empty, np.random.default_rng(0)).shape == empty.shape
    assert noise.varied_damage(empty, np.random.default_rng(0)).shape == empty.shape
    img = np.random.default_rng(12).random((20, 28, 28, 1)).astype(np.float32)
    kept = img.copy()
    for corrupt in noise.CORRUPTIONS.values():
        corrupt(img, np.random.default_rng(0))
    assert np.array_equal(img, kept)


def test_damaged_copies_are_reproducible_and_independent_across_seeds():
    img = np.full((100, 28, 28, 1), 0.5, np.float32)
    a, again, b = (noise.damaged_copies(img, s) for s in (100, 100, 200))
    assert list(a) == list(noise.CORRUPTIONS)
    for name in a:
        assert np.array_equal(a[name], again[name])
        assert not np.array_equal(a[name], b[name])
    # Two seeds' Gaussian noise fields are uncorrelated (the bug: they were identical).
    r = np.corrcoef((a["gaussian0.5"] - img).ravel(), (b["gaussian0.5"] - img).ravel())[0, 1]
    assert abs(r) < 0.02
    assert not hasattr(noise, "quality")  # scores live in helpers.scores


def test_improved_denoiser_fresh_damage_and_loss_keep_the_update_count(monkeypatch):
    """recipes.improved_denoiser: fresh=True trains once over 2 x epochs damaged copies (as many
    updates as two fixed copies for ``epochs``), validates on the four corruptions, and a
    cross-entropy run still records the validation MSE."""
    from helpers import recipes, training

    seen = []
    real_fit = training.fit

    def spy(model, x, y=None, **kw):
        seen.append((len(x), kw["epochs"], len(kw["validation_data"][0]), kw["loss"]))
        return real_fit(model, x, y, **kw)

    monkeypatch.setattr(recipes, "fit", spy)
    x = np.random.default_rng(0).random((32, 28, 28, 1)).astype("float32")
    fixed = recipes.improved_denoiser("tiny_fixed", x, x[:8], epochs=2, verbose=False,
                                      batch_size=16)[3]
    fresh = recipes.improved_denoiser("tiny_fresh", x, x[:8], epochs=2, verbose=False,
                                      batch_size=16, fresh=True)[3]
    bce = recipes.improved_denoiser("tiny_bce", x, x[:8], epochs=1, verbose=False,
                                    batch_size=16, loss="binary_crossentropy")[3]
    assert seen == [(64, 2, 32, "mse"), (128, 1, 32, "mse"), (32 * 2, 1, 32, "binary_crossentropy")]
    assert fixed.epochs * 64 == fresh.epochs * 128  # the same images seen, the same updates
    assert "val_mse" in bce.history and "val_loss" in fresh.history
