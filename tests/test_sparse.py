"""helpers.sparse: the TopK layer, the sparse autoencoders and their metrics."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from helpers import models, sparse  # noqa: E402
from helpers.training import fit  # noqa: E402


def numpy(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize("row, k, kept", [
    ([0.5, 2.0, -1.0, 3.0, 1.0], 2, [0, 2.0, 0, 3.0, 0]),
    ([1.0, 3.0, 3.0, 3.0, 0.0], 2, [0, 3.0, 3.0, 0, 0]),       # ties: low index
    ([-5.0, -2.0, -2.0, -7.0, -2.0], 2, [0, -2.0, -2.0, 0, 0]),  # all negative
    ([0.0, 0.0, 0.0, 0.0, 0.0], 3, [0.0, 0.0, 0.0, 0, 0]),
    ([4.0, -1.0, 2.0, 0.0, 1.0], 5, [4.0, -1.0, 2.0, 0.0, 1.0]),
])
def test_topk_keeps_exactly_k_per_row(row, k, kept):
    out = numpy(sparse.TopK(k)(np.array([row], "float32")))
    np.testing.assert_array_equal(out[0], kept)


def test_topk_keeps_k_per_row_among_many_ties():
    x = np.random.default_rng(0).integers(-3, 4, (200, 16)).astype("float32")
    x[x == 0] = 5  # no zeros: a non-zero output is a kept unit
    out = numpy(sparse.TopK(6)(x))
    assert (np.count_nonzero(out, axis=1) == 6).all()
    order = np.argsort(-x, axis=1, kind="stable")[:, :6]
    expected = np.zeros_like(x)
    np.put_along_axis(expected, order, np.take_along_axis(x, order, 1), 1)
    np.testing.assert_array_equal(out, expected)


def test_topk_rejects_k_below_one():
    with pytest.raises(ValueError, match="at least 1"):
        sparse.TopK(0)


def test_topk_gradient_reaches_kept_units_only():
    keras.utils.set_random_seed(0)
    x = keras.Input(shape=(5,))
    dense = keras.layers.Dense(5, use_bias=False, kernel_initializer="identity")
    model = keras.Model(x, sparse.TopK(2)(dense(x)))
    model.compile(keras.optimizers.SGD(0.1), "mse")
    data = np.array([[0.5, 2.0, -1.0, 3.0, 1.0]], "float32")
    model.train_on_batch(data, np.zeros_like(data))
    changed = np.any(numpy(dense.kernel) != np.eye(5), axis=0)
    np.testing.assert_array_equal(changed, [False, True, False, True, False])


def test_unit_norm_dictionary_after_a_training_step():
    encoder, decoder, sae = sparse.sparse_autoencoder(6, 24, "topk", k=3)
    kernel = decoder.get_layer("dictionary").kernel
    assert tuple(kernel.shape) == (24, 6)  # (latents, features)
    sae.compile(keras.optimizers.Adam(0.05), "mse")
    x = np.random.default_rng(0).normal(size=(32, 6)).astype("float32")
    for _ in range(3):
        sae.train_on_batch(x, x)
        norms = np.linalg.norm(numpy(kernel), axis=1)
        np.testing.assert_allclose(norms, 1, atol=1e-5)


def test_l0_and_dead_latents():
    latents = np.array([[0, 1.0, 0, 2.0],
                        [0, 0.0, 0, 3.0],
                        [0, 0.5, 0, 0.0]])
    assert sparse.l0(latents) == pytest.approx(4 / 3)
    np.testing.assert_array_equal(sparse.dead_latents(latents), [0, 2])


def test_fraction_variance_unexplained_at_the_ends():
    x = np.random.default_rng(0).normal(size=(50, 8))
    mean = np.broadcast_to(x.mean(axis=0), x.shape)
    assert sparse.fraction_variance_unexplained(x, x) == 0
    assert sparse.fraction_variance_unexplained(x, mean) == pytest.approx(1)
    assert sparse.fraction_variance_unexplained(x, 2 * mean - x) == (
        pytest.approx(4))


def test_loss_recovered_at_the_ends():
    assert sparse.loss_recovered(0.1, 0.1, 2.3) == pytest.approx(1)
    assert sparse.loss_recovered(0.1, 2.3, 2.3) == pytest.approx(0)
    assert sparse.loss_recovered(0.1, 1.2, 2.3) == pytest.approx(0.5)


def test_top_activating_and_class_purity():
    activations = np.array([[5.0, 1.0, 0.0, 0.0],
                            [4.0, 3.0, 0.0, 2.0],
                            [3.0, 2.0, 0.0, 0.0],
                            [0.0, 4.0, 0.0, 0.0]])
    labels = np.array([7, 7, 7, 1])
    np.testing.assert_array_equal(sparse.top_activating(activations, 1, 2),
                                  [3, 1])
    purity = sparse.class_purity(activations, labels, n=3)
    np.testing.assert_allclose(purity, [1, 2 / 3, np.nan, 1])


def test_overcomplete_autoencoder_shapes_and_training():
    x = np.random.default_rng(0).random((64, 784)).astype("float32")
    for sparsity in (None, ("l1", 1e-3), ("topk", 5)):
        keras.utils.set_random_seed(0)
        encoder, autoencoder = sparse.overcomplete_autoencoder(
            code=48, sparsity=sparsity)
        result = fit(autoencoder, x, name="overcomplete", epochs=1,
                     batch_size=32, verbose=False)
        assert np.isfinite(result.history["loss"]).all()
        assert numpy(encoder(x[:4])).shape == (4, 48)
        assert numpy(autoencoder(x[:4])).shape == (4, 784)
    assert sparse.l0(numpy(encoder(x))) <= 5
    with pytest.raises(ValueError, match="sparsity"):
        sparse.overcomplete_autoencoder(sparsity=("l2", 1.0))


@pytest.mark.parametrize("kind", ["relu_l1", "topk"])
def test_sparse_autoencoder_shapes_training_and_cache(kind, capsys):
    x = np.random.default_rng(0).normal(size=(64, 16)).astype("float32")

    def trained():
        keras.utils.set_random_seed(0)
        parts = sparse.sparse_autoencoder(16, 128, kind, l1=1e-2, k=4)
        fit(parts[2], x, name=f"sae_{kind}", epochs=1, batch_size=32)
        return parts

    encoder, decoder, sae = trained()
    latents = numpy(encoder(x))
    assert latents.shape == (64, 128) and (latents >= 0).all()
    assert numpy(decoder(latents)).shape == (64, 16)
    np.testing.assert_allclose(numpy(sae(x)), numpy(decoder(latents)),
                               atol=1e-6)
    if kind == "topk":
        assert sparse.l0(latents) <= 4
    bias = sae.get_layer("decoder_bias")
    assert bias is encoder.get_layer("decoder_bias")
    assert bias is decoder.get_layer("decoder_bias")
    assert np.any(numpy(bias.bias) != 0)  # learned
    again = trained()[2]  # the cached weights, shared bias included
    assert "reused" in capsys.readouterr().out
    np.testing.assert_allclose(numpy(again(x)), numpy(sae(x)), atol=1e-6)


def test_sparse_autoencoder_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        sparse.sparse_autoencoder(4, 8, kind="gated")


@pytest.mark.parametrize("layer", [
    sparse.TopK(7, name="topk"), sparse.L1Activity(0.25, name="l1"),
    sparse.DecoderBias(name="b")])
def test_layer_config_round_trip(layer):
    copy = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(copy) is type(layer)
    assert copy.get_config() == layer.get_config()


def test_sae_model_config_round_trip():
    sae = sparse.sparse_autoencoder(6, 24, "topk", k=3)[2]
    copy = keras.models.model_from_json(sae.to_json())
    copy.set_weights(sae.get_weights())
    x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    np.testing.assert_allclose(numpy(copy(x)), numpy(sae(x)), atol=1e-6)
    constraint = copy.get_layer("dictionary").kernel_constraint
    assert constraint.get_config() == {"axis": 1}


def test_split_classifier_and_steer():
    keras.utils.set_random_seed(0)
    classifier = models.cnn_classifier_seed()
    images = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    for layer in ("dense", classifier.layers.index(
            classifier.get_layer("dense"))):
        body, head = sparse.split(classifier, layer)
        hidden = numpy(body(images))
        assert hidden.shape == (3, 64)
        np.testing.assert_allclose(numpy(head(hidden)),
                                   numpy(classifier(images)), atol=1e-6)
    steered = sparse.steer(hidden, np.ones(64), [0.0, 1.0, 2.5])
    assert steered.shape == (3, 3, 64)
    np.testing.assert_allclose(steered[0], hidden)
    np.testing.assert_allclose(steered[2] - hidden, 2.5)
