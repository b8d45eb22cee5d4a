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


def value_and_grad(fn, x):
    """``fn(x)`` and its gradient with respect to ``x``, on the active Keras backend."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax
        return jax.value_and_grad(fn)(x)
    if backend == "tensorflow":
        import tensorflow as tf
        x = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = fn(x)
        return value, tape.gradient(value, x)
    if backend == "torch":
        import torch
        x = torch.tensor(x, requires_grad=True)
        value = fn(x)
        value.backward()
        return value, x.grad
    pytest.skip(f"no gradients on the {backend} backend")


@pytest.mark.parametrize("objective", sorted(itl.OBJECTIVES))
def test_finite_far_from_the_prior(objective):
    """Codes 15 units away: every pair kernel underflows float32, the log-space terms do not."""
    rng = np.random.default_rng(7)
    prior = itl.gaussian(200, rng, dim=3)
    codes = itl.gaussian(64, rng, dim=3) + np.float32(15.0 / math.sqrt(3))
    layer = itl.ITLRegularizer(prior, weight=1.0, sigma=0.5, n_prior=128, objective=objective)

    def loss(c):
        layer(c, training=True)
        return layer.losses[-1]

    value, grad = value_and_grad(loss, codes)
    value, grad = float(keras.ops.convert_to_numpy(value)), keras.ops.convert_to_numpy(grad)
    assert np.isfinite(value) and value > 50 and np.all(np.isfinite(grad))
    assert np.all(grad.sum(axis=0) > 0)  # a descent step moves the codes back towards the prior
    for fn in (itl.quadratic_cross_entropy, itl.cauchy_schwarz_divergence):
        assert np.isfinite(float(keras.ops.convert_to_numpy(fn(codes, prior, 0.5))))


def test_divergence_of_a_set_with_itself_is_zero():
    rng = np.random.default_rng(8)
    x = itl.gaussian(500, rng, dim=3)
    same = float(keras.ops.convert_to_numpy(itl.cauchy_schwarz_divergence(x, x, 0.5)))
    assert abs(same) < 1e-4
    for y in (itl.gaussian(300, rng, dim=3, scale=0.3), x[:100] + 0.2, itl.gmm(300, rng)[0]):
        assert float(keras.ops.convert_to_numpy(itl.cauchy_schwarz_divergence(x, y, 0.5))) > 0


@pytest.mark.parametrize("a", [0.5, 1.0, 2.0])
def test_gaussian_objectives_match_the_estimators(a):
    rng = np.random.default_rng(9)
    codes, prior = a * itl.gaussian(3000, rng, dim=3), itl.gaussian(3000, rng, dim=3)
    cross = float(keras.ops.convert_to_numpy(itl.quadratic_cross_entropy(codes, prior, 0.5)))
    entropy = float(keras.ops.convert_to_numpy(itl.renyi_quadratic_entropy(codes, 0.5)))
    closed = itl.gaussian_objectives(a, dim=3, sigma=0.5)
    assert 2 * cross - entropy == pytest.approx(closed["cauchy_schwarz"], rel=0.03)
    # the as-published objective crosses zero at a = 1: compare on an absolute scale
    assert cross - entropy == pytest.approx(closed["as_published"], abs=0.06)


def test_gaussian_objectives_shapes():
    a = np.linspace(0.2, 5.0, 481)  # step 0.01, through a = 1
    closed = itl.gaussian_objectives(a, dim=3, sigma=0.5)
    assert np.all(np.diff(closed["as_published"]) < 0)  # wider codes always score better
    assert a[np.argmin(closed["cauchy_schwarz"])] == pytest.approx(1.0)
    # the form for d = 3, sigma = 0.5: (d/2) log((a^2 + 1.5) / (2a^2 + 0.5))
    np.testing.assert_allclose(closed["as_published"],
                               1.5 * np.log((a ** 2 + 1.5) / (2 * a ** 2 + 0.5)))
    # at a = 1, 2 H2(X; Y) - H2(X) is H2(prior) = (d/2) log(2 pi (2 + 2 sigma^2)): D_CS = 0
    at_one = itl.gaussian_objectives(1.0, 3, 0.5)["cauchy_schwarz"]
    assert at_one == pytest.approx(1.5 * math.log(2 * math.pi * 2.5))


@pytest.mark.parametrize("objective", sorted(itl.OBJECTIVES))
def test_regulariser_fits_the_spread_of_a_gaussian_prior(objective):
    """Trained on the regulariser alone, a linear map of Gaussian inputs starting 4 units from
    an N(0, 2^2 I) prior, with spread 0.3: the Cauchy-Schwarz objective moves the codes onto the
    prior and fits their std to within 20% (measured: 1.84-1.90); the as-published objective
    spreads them ever wider (4.4-5.0 after these steps, and still growing)."""
    scale, rng = 2.0, np.random.default_rng(4)
    prior = itl.gaussian(4000, rng, dim=2, scale=scale)
    inputs = keras.Input(shape=(8,))
    dense = keras.layers.Dense(2, kernel_initializer=keras.initializers.RandomNormal(0.0, 0.1, 0),
                               bias_initializer=keras.initializers.Constant(3.0))
    regulariser = itl.ITLRegularizer(prior, weight=1.0, sigma=0.5, n_prior=512, objective=objective)
    model = keras.Model(inputs, regulariser(dense(inputs)))
    model.compile(keras.optimizers.Adam(0.05))
    data = rng.standard_normal((1024, 8)).astype("float32")
    model.fit(data, epochs=60, batch_size=256, verbose=0)
    codes = model.predict(data, verbose=0)
    if objective == "cauchy_schwarz":
        np.testing.assert_allclose(codes.mean(axis=0), 0.0, atol=0.3 * scale)
        np.testing.assert_allclose(codes.std(axis=0), scale, rtol=0.2)
    else:
        assert np.all(codes.std(axis=0) > 1.5 * scale)


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
    layer = itl.ITLRegularizer(prior, weight=0.2, sigma=0.4, n_prior=16, seed=3,
                               objective="as_published", name="itl")
    again = itl.ITLRegularizer.from_config(layer.get_config())
    assert ((again.weight, again.sigma, again.n_prior, again.seed, again.objective, again.name)
            == (0.2, 0.4, 16, 3, "as_published", "itl"))
    np.testing.assert_array_equal(again.prior, layer.prior)
    assert itl.ITLRegularizer(prior).objective == "cauchy_schwarz"
    with pytest.raises(ValueError, match="objective"):
        itl.ITLRegularizer(prior, objective="entropy")


def log_potential_float64(x, y, sigma):
    """``log V(X, Y)`` in float64 from the pairwise differences: the reference."""
    from scipy.special import logsumexp

    x, y = np.asarray(x, "float64"), np.asarray(y, "float64")
    z = -np.square(x[:, None] - y[None]).sum(axis=-1) / (4 * sigma ** 2)
    return (logsumexp(z) - math.log(z.size)
            - x.shape[1] / 2 * math.log(4 * math.pi * sigma ** 2))


@pytest.mark.parametrize("offset", [0.0, 1e3, -1e3])
def test_estimators_are_accurate_far_from_the_origin(offset):
    """Two overlapping sets around ``offset``: |x|^2 + |y|^2 - 2 x.y cancels ~1e6 to give
    distances of ~1 and lost ~5% of V in float32; the estimate must match float64."""
    rng = np.random.default_rng(10)
    x = (offset + rng.standard_normal((300, 3))).astype("float32")
    y = (offset + 0.5 + rng.standard_normal((200, 3))).astype("float32")
    for a, b in ((x, y), (x, None)):
        got = float(keras.ops.convert_to_numpy(
            itl.log_information_potential(a, b, sigma=0.5)))
        want = log_potential_float64(a, a if b is None else b, 0.5)
        assert got == pytest.approx(want, abs=1e-4)  # V within 0.01%
    divergence = float(keras.ops.convert_to_numpy(itl.cauchy_schwarz_divergence(x, y, 0.5)))
    want = (2 * -log_potential_float64(x, y, 0.5) + log_potential_float64(x, x, 0.5)
            + log_potential_float64(y, y, 0.5))
    assert divergence == pytest.approx(want, abs=1e-4)


@pytest.mark.parametrize("sigma", [0.0, -0.5, float("nan")])
def test_a_kernel_width_that_is_not_positive_is_refused(sigma):
    x = itl.gaussian(20, np.random.default_rng(11), dim=3)
    for fn in (itl.log_information_potential, itl.information_potential,
               itl.renyi_quadratic_entropy):
        with pytest.raises(ValueError, match="sigma"):
            fn(x, sigma=sigma)
    for fn in (itl.quadratic_cross_entropy, itl.cauchy_schwarz_divergence):
        with pytest.raises(ValueError, match="sigma"):
            fn(x, x, sigma)
    with pytest.raises(ValueError, match="sigma"):
        itl.gaussian_objectives(1.0, dim=3, sigma=sigma)
    with pytest.raises(ValueError, match="sigma"):
        itl.ITLRegularizer(x, sigma=sigma)
