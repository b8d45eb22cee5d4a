"""helpers.itl: Parzen estimators against closed forms, the regulariser, and the priors."""

import math

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from helpers import itl  # noqa: E402


def gaussian_ip(s2, sigma, dim, offset_sq=0.0):
    """Closed form of integral N(0, s2 I) N(mu, s2 I) smoothed by Parzen kernels of width sigma."""
    var = 2 * s2 + 2 * sigma ** 2
    return (2 * math.pi * var) ** (-dim / 2) * math.exp(-offset_sq / (2 * var))


@pytest.mark.parametrize("dim, scale, sigma", [(2, 1.0, 0.5), (3, 0.5, 0.3)])
def test_information_potential_of_gaussian_samples(dim, scale, sigma):
    rng = np.random.default_rng(0)
    x = itl.gaussian(3000, rng, dim=dim, scale=scale)
    estimate = float(keras.ops.convert_to_numpy(itl.information_potential(x, sigma=sigma)))
    assert estimate == pytest.approx(gaussian_ip(scale ** 2, sigma, dim), rel=0.05)
    entropy = float(keras.ops.convert_to_numpy(itl.renyi_quadratic_entropy(x, sigma)))
    assert entropy == pytest.approx(-math.log(gaussian_ip(scale ** 2, sigma, dim)), abs=0.05)


def test_cross_potential_and_divergence():
    rng = np.random.default_rng(1)
    x = itl.gaussian(2000, rng, dim=3)
    y = itl.gaussian(2000, rng, dim=3) + np.array([1.0, 0, 0], np.float32)
    cross = float(keras.ops.convert_to_numpy(itl.information_potential(x, y, sigma=0.5)))
    assert cross == pytest.approx(gaussian_ip(1.0, 0.5, 3, offset_sq=1.0), rel=0.05)
    same = float(keras.ops.convert_to_numpy(itl.cauchy_schwarz_divergence(x, itl.gaussian(2000, rng, dim=3), 0.5)))
    apart = float(keras.ops.convert_to_numpy(itl.cauchy_schwarz_divergence(x, y, 0.5)))
    assert abs(same) < 0.02 and apart > 10 * abs(same) and apart > 0.1


def test_regulariser_adds_a_loss_only_in_training():
    prior = itl.gaussian(500, np.random.default_rng(2), dim=3)
    layer = itl.ITLRegularizer(prior, weight=0.5, sigma=0.5, n_prior=64)
    codes = keras.ops.convert_to_tensor(np.random.default_rng(3).normal(size=(32, 3)).astype("float32"))
    out = layer(codes, training=False)
    assert not layer.losses
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out), keras.ops.convert_to_numpy(codes))
    layer(codes, training=True)
    assert len(layer.losses) == 1 and np.isfinite(float(keras.ops.convert_to_numpy(layer.losses[0])))


def test_regulariser_pulls_codes_towards_the_prior():
    """Trained on the ITL loss alone, codes that start far away move onto the prior."""
    rng = np.random.default_rng(4)
    prior = itl.gaussian(1000, rng, dim=3)
    x = keras.Input(shape=(3,))
    shift = keras.layers.Dense(3, kernel_initializer="identity",
                               bias_initializer=keras.initializers.Constant(4.0))
    model = keras.Model(x, itl.ITLRegularizer(prior, weight=1.0, sigma=1.0, n_prior=256)(shift(x)))
    model.compile(keras.optimizers.Adam(0.1), loss=lambda y_true, y_pred: 0.0 * keras.ops.mean(y_pred))
    data = itl.gaussian(512, rng, dim=3)
    before = float(np.linalg.norm(model.predict(data, verbose=0).mean(axis=0)))
    model.fit(data, data, epochs=60, batch_size=128, verbose=0)
    after = float(np.linalg.norm(model.predict(data, verbose=0).mean(axis=0)))
    assert before > 6 and after < 1.0


def test_samplers_moments():
    rng = np.random.default_rng(5)
    g = itl.gaussian(20000, rng, dim=3, scale=2.0)
    np.testing.assert_allclose(g.mean(axis=0), 0, atol=0.05)
    np.testing.assert_allclose(np.cov(g.T), 4 * np.eye(3), atol=0.15)

    points, t = itl.swiss_roll(5000, rng, noise=0.0)
    assert points.shape == (5000, 3) and t.min() >= 1.5 * np.pi and t.max() <= 4.5 * np.pi
    radius = np.hypot(points[:, 0], points[:, 2])
    np.testing.assert_allclose(radius, t / 10, rtol=1e-5)  # on the spiral r = t / 10

    samples, comp = itl.gmm(20000, rng, k=10, scale=0.25)
    means = itl.gmm_means(10)
    assert np.bincount(comp, minlength=10).min() > 1700
    for c in range(10):
        np.testing.assert_allclose(samples[comp == c].mean(axis=0), means[c], atol=0.03)
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), 2.0, rtol=1e-5)
    gaps = np.linalg.norm(means[:, None] - means[None], axis=-1) + 10 * np.eye(10)
    assert gaps.min() > 4 * 0.25  # components do not overlap much


def test_regulariser_config_round_trip():
    prior = itl.gmm(50, np.random.default_rng(6))[0]
    layer = itl.ITLRegularizer(prior, weight=0.2, sigma=0.4, n_prior=16, name="itl")
    again = itl.ITLRegularizer.from_config(layer.get_config())
    assert (again.weight, again.sigma, again.n_prior, again.name) == (0.2, 0.4, 16, "itl")
    np.testing.assert_array_equal(again.prior, layer.prior)
