"""Chapter 3's model variants and recipe: the narrow-code seed AE, the
resize-convolution decoder, batch-norm momentum."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from helpers import models  # noqa: E402


def test_narrow_seed_ae_keeps_the_layout_with_fewer_numbers():
    encoder, decoder, ae = models.conv_autoencoder_narrow(8)
    assert encoder.output.shape[1:] == (7, 7, 8)
    assert int(np.prod(encoder.output.shape[1:])) == 392 < 784
    assert decoder.input.shape[1:] == (7, 7, 8)
    assert ae.output.shape[1:] == (28, 28, 1)
    seed = models.conv_autoencoder()[2]
    # only the code conv (64 -> c) and the first decoder conv (c -> 128) change
    diff = seed.count_params() - ae.count_params()
    assert diff == (9 * 64 + 1) * 120 + 9 * 120 * 128
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    out = ae.predict(x, verbose=0)
    assert out.min() >= 0 and out.max() <= 1
    np.testing.assert_allclose(
        out, decoder.predict(encoder.predict(x, verbose=0), verbose=0),
        atol=1e-5)


def test_resize_decoder_matches_the_improved_decoder_in_shape():
    resize = models.resize_conv_decoder(32)
    _, improved, _ = models.conv_autoencoder_improved(32)
    assert resize.input.shape[1:] == improved.input.shape[1:] == (7, 7, 32)
    assert resize.output.shape[1:] == improved.output.shape[1:] == (28, 28, 1)
    kinds = {type(layer).__name__ for layer in resize.layers}
    assert "Conv2DTranspose" not in kinds and "UpSampling2D" in kinds


def _interior_spread(decoder):
    code = np.ones((1, 7, 7, 32), "float32")
    # 'same' padding changes the 10 outer rows and columns; the centre is
    # free of border effects
    out = decoder.predict(code, verbose=0)[0, 10:18, 10:18, 0]
    return float(out.std())


def test_constant_code_gives_a_flat_interior_only_with_resize_convs():
    """The checkerboard: from a constant code, the transposed convolutions'
    uneven overlap makes a periodic pattern; resize-convolutions do not."""
    keras.utils.set_random_seed(0)
    _, transposed, _ = models.conv_autoencoder_improved(32)
    keras.utils.set_random_seed(0)
    resize = models.resize_conv_decoder(32)
    assert _interior_spread(resize) < 1e-5
    assert _interior_spread(transposed) > 1e-3


def test_with_batch_norm_momentum_sets_every_batch_norm():
    parts = models.compact_conv_autoencoder()[:2]
    assert models.with_batch_norm_momentum(parts, 0.99) is parts
    norms = [layer for part in parts for layer in part.layers
             if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 4
    assert all(layer.momentum == 0.99 for layer in norms)
    assert all(layer.get_config()["momentum"] == 0.99 for layer in norms)


def test_momentum_is_used_by_the_moving_statistics():
    x = keras.Input((2,))
    norm = keras.layers.BatchNormalization()
    model = keras.Model(x, norm(x))
    models.with_batch_norm_momentum([model], 0.5)
    batch = np.full((4, 2), 3.0, "float32")
    model(batch, training=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(norm.moving_mean),
                               [1.5, 1.5], rtol=1e-6)


def _randomise(model, rng):
    """Random kernels (scaled by fan-in, so no unit saturates) and biases: the
    property must hold for any weights, not only the initial ones."""
    for layer in model.layers:
        for name in ("kernel", "bias"):
            var = getattr(layer, name, None)
            if var is not None:
                scale = (1 / np.sqrt(np.prod(var.shape[:-1])) if name == "kernel"
                         else 0.05)
                var.assign(rng.normal(0, scale, var.shape).astype("float32"))


def test_level_codes_give_a_flat_interior_with_resize_convs_whatever_weights():
    """Chapter 3's trained-decoder check: a code that is the same at every
    position (a per-channel level, not ones) comes out flat in the centre
    from a resize-convolution decoder for any weights, and as a pattern from
    the transposed one."""
    rng = np.random.default_rng(1)
    level = np.broadcast_to(rng.normal(size=(1, 1, 1, 32)),
                            (1, 7, 7, 32)).astype("float32")
    keras.utils.set_random_seed(0)
    _, transposed, _ = models.conv_autoencoder_improved(32)
    resize = models.resize_conv_decoder(32)
    spreads = {}
    for name, decoder in (("transposed", transposed), ("resize", resize)):
        _randomise(decoder, rng)
        out = decoder.predict(level, verbose=0)[0, 10:18, 10:18, 0]
        spreads[name] = float(out.std())
        assert 0.01 < out.mean() < 0.99  # sigmoid not saturated
    assert spreads["resize"] < 1e-5
    assert spreads["transposed"] > 1e-3
