"""helpers.work.multiply_adds against counts made by hand."""

import pytest

keras = pytest.importorskip("keras")

from helpers import models  # noqa: E402
from helpers.work import multiply_adds  # noqa: E402

layers = keras.layers


def model(input_shape, *stack):
    x = keras.Input(shape=input_shape)
    y = x
    for layer in stack:
        y = layer(y)
    return keras.Model(x, y)


def test_dense_counts_inputs_times_units_per_position():
    assert multiply_adds(model((8,), layers.Dense(3), layers.Dense(8))) == 8 * 3 + 3 * 8
    assert multiply_adds(model((5, 4), layers.Dense(6))) == 5 * (4 * 6)  # 5 positions


def test_convolutions_count_output_values_times_kernel_times_input_channels():
    same = model((6, 6, 4), layers.Conv2D(8, 3, strides=2, padding="same"))  # -> 3x3x8
    assert multiply_adds(same) == (3 * 3 * 8) * (3 * 3 * 4)
    grouped = model((6, 6, 4), layers.Conv2D(8, 3, groups=2))  # valid: -> 4x4x8, 2 inputs per group
    assert multiply_adds(grouped) == (4 * 4 * 8) * (3 * 3 * 2)
    assert multiply_adds(model((10, 3), layers.Conv1D(5, 4))) == (7 * 5) * (4 * 3)  # -> 7x5


def test_transposed_convolutions_count_input_values_times_kernel_times_filters():
    up = model((3, 3, 5), layers.Conv2DTranspose(2, 3, strides=2, padding="same"))  # -> 6x6x2
    assert multiply_adds(up) == (3 * 3 * 5) * (3 * 3) * 2


def test_other_layers_count_zero_and_nested_models_are_counted_through():
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    outer = model((2, 2, 1), layers.Flatten(), layers.BatchNormalization(), inner, layers.Dropout(0.1))
    assert multiply_adds(outer) == 4 * 2
    assert multiply_adds(model((4, 4, 1), layers.MaxPooling2D(2), layers.UpSampling2D(2))) == 0


def test_seed_dense_autoencoder():  # 784-256-64-256-784
    assert multiply_adds(models.dense_autoencoder()[2]) == 784 * 256 + 256 * 64 + 64 * 256 + 256 * 784


def test_seed_conv_autoencoder():  # all 3x3 'same' convolutions
    encoder = 28 * 28 * 32 * (9 * 1) + 14 * 14 * 64 * (9 * 32) + 7 * 7 * 128 * (9 * 64)
    decoder = 7 * 7 * 128 * (9 * 128) + 14 * 14 * 64 * (9 * 128) + 28 * 28 * 1 * (9 * 64)
    encoder_model, decoder_model, autoencoder = models.conv_autoencoder()
    assert multiply_adds(encoder_model) == encoder and multiply_adds(decoder_model) == decoder
    assert multiply_adds(autoencoder) == encoder + decoder == 29_578_752


def test_seed_cnn_classifier():  # 'valid' 3x3 convs: 28 -> 26 -> pool 13 -> 11 -> 5 -> 3 -> 1
    convs = 26 * 26 * 32 * (9 * 1) + 11 * 11 * 32 * (9 * 32) + 3 * 3 * 64 * (9 * 32)
    assert multiply_adds(models.cnn_classifier_seed()) == convs + 64 * 64 + 64 * 10


def test_improved_conv_autoencoder_with_strides_and_transposed_convolutions():
    encoder = (28 * 28 * 32 * (9 * 1) + 14 * 14 * 64 * (9 * 32)        # conv, strided conv
               + 14 * 14 * 64 * (9 * 64) + 7 * 7 * 128 * (9 * 64)      # conv, strided conv
               + 7 * 7 * 32 * (1 * 128))                                # 1x1 code
    decoder = (7 * 7 * 128 * (9 * 32) + 7 * 7 * 128 * 9 * 64            # conv, transposed 7 -> 14
               + 14 * 14 * 64 * (9 * 64) + 14 * 14 * 64 * 9 * 32        # conv, transposed 14 -> 28
               + 28 * 28 * 1 * (9 * 32))                                # reconstruction
    assert multiply_adds(models.conv_autoencoder_improved()[2]) == encoder + decoder


def test_a_layer_it_cannot_count_is_named_not_counted_as_zero():
    with pytest.raises(TypeError, match="LayerNormalization"):
        multiply_adds(model((8,), layers.Dense(4), layers.LayerNormalization()))


@pytest.mark.parametrize("build", [
    models.dense_autoencoder, models.single_layer_autoencoder, models.dense_autoencoder_improved,
    models.conv_autoencoder, models.conv_autoencoder_improved,
    models.conv_autoencoder_bottleneck, models.compact_conv_autoencoder,
    models.deep_dense_autoencoder, models.cnn_classifier_seed,
    lambda: models.cnn_classifier_improved(width=16), lambda: models.cnn_classifier_strided(width=16)])
def test_every_model_the_chapters_count_is_counted(build):  # chapters 2, 3, 4 and 6
    built = build()
    for m in built if isinstance(built, tuple) else (built,):
        assert multiply_adds(m) > 0
