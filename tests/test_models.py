"""Tests for helpers.models: exact parameter counts, shapes, output range, composition."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from helpers import models  # noqa: E402

IMAGE = (28, 28, 1)
FLAT = (784,)

# builder, input shape, code shape, (encoder, decoder, autoencoder) totals,
# (encoder, decoder, autoencoder) non-trainable counts
AUTOENCODERS = {
    "dense_autoencoder": (models.dense_autoencoder, FLAT, (64,),
                          (217_408, 218_128, 435_536), (0, 0, 0)),
    "single_layer_autoencoder": (models.single_layer_autoencoder, FLAT, (32,),
                                 (25_120, 25_872, 50_992), (0, 0, 0)),
    "conv_autoencoder": (models.conv_autoencoder, IMAGE, (7, 7, 128),
                         (92_672, 221_953, 314_625), (0, 0, 0)),
    "compact_conv_autoencoder": (models.compact_conv_autoencoder, IMAGE, (6,),
                                 (35_089, 42_433, 77_522), (128, 96, 224)),
    "dense_autoencoder_improved": (models.dense_autoencoder_improved, FLAT, (64,),
                                   (549_696, 550_416, 1_100_112), (0, 0, 0)),
    "conv_autoencoder_improved": (models.conv_autoencoder_improved, IMAGE, (7, 7, 32),
                                  (134_496, 166_849, 301_345), (384, 192, 576)),
    "conv_autoencoder_bottleneck": (models.conv_autoencoder_bottleneck, IMAGE, (32,),
                                    (184_704, 218_593, 403_297), (384, 192, 576)),
    "deep_dense_autoencoder": (models.deep_dense_autoencoder, FLAT, (10,),
                               (1_665_010, 1_665_784, 3_330_794), (0, 0, 0)),
}
LINEAR_OUTPUT = {"deep_dense_ae_autoencoder"}  # a linear reconstruction, as in DEC and N2D


@pytest.fixture(scope="module", params=sorted(AUTOENCODERS))
def built(request):
    builder, in_shape, code_shape, totals, frozen = AUTOENCODERS[request.param]
    keras.utils.set_random_seed(0)
    return builder(), in_shape, code_shape, totals, frozen


def _random_images(shape, n=8, seed=0):
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def test_dense_default_count_matches_formula():
    expected = 784 * 256 + 256 + 256 * 64 + 64 + 64 * 256 + 256 + 256 * 784 + 784
    assert expected == 435_536 == models.dense_autoencoder()[2].count_params()


def test_parameter_counts(built):
    (encoder, decoder, autoencoder), _, _, totals, frozen = built
    for model, total, non_trainable in zip((encoder, decoder, autoencoder), totals, frozen):
        counts = models.count_params(model)
        assert counts == {"total": total, "trainable": total - non_trainable,
                          "non_trainable": non_trainable}, model.name
        assert model.count_params() == total


def test_model_names(built):
    (encoder, decoder, autoencoder), *_ = built
    prefix = autoencoder.name.removesuffix("_autoencoder")
    assert prefix != autoencoder.name
    assert encoder.name == f"{prefix}_encoder" and decoder.name == f"{prefix}_decoder"


def test_shapes(built):
    (encoder, decoder, autoencoder), in_shape, code_shape, *_ = built
    assert tuple(encoder.input_shape[1:]) == in_shape
    assert tuple(encoder.output_shape[1:]) == code_shape
    assert tuple(decoder.input_shape[1:]) == code_shape
    assert tuple(decoder.output_shape[1:]) == in_shape
    assert tuple(autoencoder.output_shape[1:]) == in_shape


def test_output_in_unit_interval_and_composes(built):
    (encoder, decoder, autoencoder), in_shape, code_shape, *_ = built
    x = _random_images(in_shape)
    y = keras.ops.convert_to_numpy(autoencoder(x, training=False))
    assert y.shape == x.shape and np.all(np.isfinite(y))
    if autoencoder.name not in LINEAR_OUTPUT:
        assert y.min() >= 0.0 and y.max() <= 1.0
    code = encoder(x, training=False)
    assert tuple(code.shape) == (len(x), *code_shape)
    y2 = keras.ops.convert_to_numpy(decoder(code, training=False))
    np.testing.assert_allclose(y, y2, rtol=1e-5, atol=1e-6)


def test_autoencoder_shares_layers_with_parts(built):
    (encoder, decoder, autoencoder), *_ = built
    assert [layer.name for layer in autoencoder.layers[1:]] == [encoder.name, decoder.name]
    assert autoencoder.layers[1] is encoder and autoencoder.layers[2] is decoder


def test_compact_code_size_is_configurable():
    encoder, decoder, autoencoder = models.compact_conv_autoencoder(code_size=2)
    assert encoder.output_shape == (None, 2) and decoder.input_shape == (None, 2)
    assert autoencoder.output_shape == (None, *IMAGE)


def test_bottleneck_is_undercomplete_around_the_improved_conv_layers():
    improved = models.conv_autoencoder_improved()[2].count_params()
    for size in (2, 32, 100):
        encoder, decoder, autoencoder = models.conv_autoencoder_bottleneck(code_size=size)
        assert encoder.output_shape == (None, size) and decoder.input_shape == (None, size)
        assert encoder.layers[1].name == "conv_ae_improved_encoder"
        assert decoder.layers[-1].name == "conv_ae_improved_decoder"
        # two dense layers between the 7x7x32 map (1,568 numbers) and the code, with biases
        assert autoencoder.count_params() == improved + 2 * 1568 * size + size + 1568


def test_cnn_classifier_seed():
    model = models.cnn_classifier_seed()
    # conv 320 + conv 9,248 + conv 18,496 + dense 4,160 + softmax 650
    assert models.count_params(model) == {"total": 32_874, "trainable": 32_874,
                                          "non_trainable": 0}
    assert model.input_shape == (None, *IMAGE) and model.output_shape == (None, 10)
    probs = keras.ops.convert_to_numpy(model(_random_images(IMAGE), training=False))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_cnn_classifier_improved():
    model = models.cnn_classifier_improved()
    # six 3x3 convs without bias (32, 32, 64, 64, 128, 128 filters), their batch norms, softmax
    convs = 9 * (1 * 32 + 32 * 32 + 32 * 64 + 64 * 64 + 64 * 128 + 128 * 128)
    bn = 4 * 2 * (32 + 64 + 128)
    assert models.count_params(model) == {"total": convs + bn + 128 * 10 + 10,
                                          "trainable": convs + bn // 2 + 1290,
                                          "non_trainable": bn // 2}
    assert model.output_shape == (None, 10)
    probs = keras.ops.convert_to_numpy(model(_random_images(IMAGE), training=False))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_conv_autoencoder_trains_a_few_steps():
    keras.utils.set_random_seed(0)
    _, _, autoencoder = models.conv_autoencoder()
    autoencoder.compile(optimizer="rmsprop", loss="mse")
    x = _random_images(IMAGE, n=64)
    history = autoencoder.fit(x, x, batch_size=32, epochs=1, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 1 and np.isfinite(losses[0])
