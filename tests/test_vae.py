"""helpers.vae: the KL term, the bounds, reproducible sampling and losses that add up."""

import math

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from helpers import vae  # noqa: E402


def numpy(t):
    return keras.ops.convert_to_numpy(t)


def blobs(n, seed=0):
    """Smooth flat images in [0, 1]: one Gaussian blob each."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    cy, cx = rng.uniform(8, 20, (2, n, 1, 1))
    images = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 20).astype("float32")
    return images.reshape(n, -1)


def small_vae(beta=1.0, seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    return vae.VAE(vae.dense_encoder(4, (32,)), vae.dense_decoder(4, (32,)), beta=beta,
                   seed=seed, **kwargs)


def test_kl_of_standard_normal_posterior_is_zero():
    zeros = np.zeros((3, 5), "float32")
    assert np.allclose(numpy(vae.kl_divergence(zeros, zeros)), 0.0, atol=1e-7)


def test_kl_matches_closed_form_and_is_positive():
    mean = np.array([[1.0, -2.0]], "float32")
    log_var = np.array([[math.log(4.0), math.log(0.25)]], "float32")
    expected = sum(0.5 * (v + m * m - 1 - math.log(v)) for m, v in [(1.0, 4.0), (-2.0, 0.25)])
    assert float(numpy(vae.kl_divergence(mean, log_var))[0]) == pytest.approx(expected, rel=1e-5)


def test_bernoulli_likelihood_matches_direct_formula():
    rng = np.random.default_rng(0)
    x = (rng.uniform(size=(2, 6)) < 0.5).astype("float32")
    logits = rng.normal(size=(2, 6)).astype("float32")
    p = 1 / (1 + np.exp(-logits))
    direct = np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=1)
    assert np.allclose(numpy(vae.bernoulli_log_likelihood(x, logits)), direct, atol=1e-4)


def test_importance_weighted_bound_is_above_elbo_and_tightens_with_k():
    model = small_vae()
    x = vae.binarize(blobs(30), seed=1)
    weights = vae.log_weights(model, x, k=200, seed=0)
    assert weights.shape == (30, 200) and np.isfinite(weights).all()
    b = vae.bounds(weights)
    assert np.all(b["iw"] >= b["elbo"] - 1e-9)  # Jensen, on the very same samples
    means = [vae.bounds(weights[:, :k])["iw"].mean() for k in (1, 10, 200)]
    assert means[0] == pytest.approx(weights[:, 0].mean())  # k = 1 is the ELBO estimate
    assert means[0] < means[1] < means[2]


def test_sampling_is_reproducible_with_a_seed():
    model = small_vae()
    assert np.array_equal(model.sample(5, seed=3), model.sample(5, seed=3))
    assert not np.array_equal(model.sample(5, seed=3), model.sample(5, seed=4))
    x = blobs(8)
    first = numpy(small_vae(seed=7)(x, training=True)["logits"])
    again = numpy(small_vae(seed=7)(x, training=True)["logits"])
    assert np.array_equal(first, again)
    w1 = vae.log_weights(model, vae.binarize(x), k=5, seed=2)
    assert np.array_equal(w1, vae.log_weights(model, vae.binarize(x), k=5, seed=2))


@pytest.mark.parametrize("beta", [1.0, 2.0])
def test_logged_total_is_reconstruction_plus_beta_kl(beta):
    model = small_vae(beta=beta)
    x = blobs(96)
    model.compile(keras.optimizers.Adam(1e-3))
    val = vae.binarize(blobs(32, seed=5), seed=0)
    h = model.fit(x, x, epochs=3, batch_size=20, validation_data=(val, val), verbose=0).history
    for prefix in ("", "val_"):
        total = np.array(h[f"{prefix}loss"])
        parts = np.array(h[f"{prefix}reconstruction"]) + beta * np.array(h[f"{prefix}kl"])
        assert np.allclose(total, parts, rtol=1e-5), (prefix, total, parts)
    assert min(h["kl"]) > 0


def test_active_units_and_conditional_shapes():
    model = small_vae()
    count, variances = vae.active_units(model, blobs(50))
    assert variances.shape == (4,) and 0 <= count <= 4
    keras.utils.set_random_seed(0)
    cvae = vae.VAE(vae.dense_encoder(3, (16,), input_size=784 + 10),
                   vae.dense_decoder(3, (16,), condition_size=10), condition_size=10)
    x = np.concatenate([blobs(4), np.eye(10, dtype="float32")[:4]], axis=1)
    out = cvae(x, training=True)
    assert numpy(out["logits"]).shape == (4, 784) and numpy(out["target"]).shape == (4, 784)
    assert cvae.sample(4, seed=0, condition=np.eye(10)[:4]).shape == (4, 784)


def test_bounds_of_a_row_of_minus_infinity_is_minus_infinity():
    weights = np.array([[-np.inf, -np.inf], [-1.0, -3.0]])
    b = vae.bounds(weights)
    assert b["iw"][0] == -np.inf and not np.isnan(b["iw"]).any()
    assert b["iw"][1] == pytest.approx(np.log((np.exp(-1) + np.exp(-3)) / 2))


def test_the_config_holds_every_setting_and_round_trips():
    model = small_vae(beta=3.0, likelihood="gaussian", decoder_std=0.5, binarize=False, seed=4)
    config = model.get_config()
    assert {k: config[k] for k in ("beta", "likelihood", "decoder_std", "binarize", "seed")} == {
        "beta": 3.0, "likelihood": "gaussian", "decoder_std": 0.5, "binarize": False, "seed": 4}
    again = vae.VAE.from_config(config)
    assert again.beta == 3.0 and again.likelihood == "gaussian" and again.seed == 4


@pytest.mark.parametrize("change", [{"beta": 50.0}, {"likelihood": "gaussian"},
                                    {"decoder_std": 0.1}, {"binarize": False}])
def test_a_cached_vae_is_never_reused_for_other_settings(change, capsys):
    x = blobs(64)
    run = vae.train(small_vae(), x[:48], vae.binarize(x[48:]), name="vae_key", epochs=1)
    assert not run.reused
    assert vae.train(small_vae(), x[:48], vae.binarize(x[48:]), name="vae_key", epochs=1).reused
    assert "vae_key: reused trained weights" in capsys.readouterr().out  # said, even quietly
    other = vae.train(small_vae(**change), x[:48], vae.binarize(x[48:]), name="vae_key", epochs=1)
    assert not other.reused
