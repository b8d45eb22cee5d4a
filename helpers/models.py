"""The book's Keras 3 models: the seed architectures and their improved variants.

Every autoencoder builder returns ``(encoder, decoder, autoencoder)``, three
``keras.Model`` objects that share their layers, with ``autoencoder(x) ==
decoder(encoder(x))``. Training one trains all three. Convolutional models take
``(28, 28, 1)`` images and dense models flat ``(784,)`` vectors, both as floats in
``[0, 1]``; every reconstruction ends in a sigmoid, so it lies in ``[0, 1]`` too.

The module only uses ``keras`` (no backend import), so it runs unchanged on
TensorFlow, JAX or PyTorch. Builders do not compile: each chapter picks its own
optimizer and loss (the seeds' choices are noted in each docstring).
"""

from __future__ import annotations

import math

import keras
from keras import layers

IMAGE_SHAPE = (28, 28, 1)
FLAT_SIZE = 28 * 28


def _chain(x, *layer_list):
    """Apply ``layer_list`` in order to ``x`` (keeps the builders short)."""
    for layer in layer_list:
        x = layer(x)
    return x


def _assemble(encoder, decoder, input_shape, prefix):
    """Wire ``decoder(encoder(x))`` into the autoencoder model."""
    x = keras.Input(shape=input_shape, name="input")
    return keras.Model(x, decoder(encoder(x)), name=f"{prefix}_autoencoder")


def _conv(filters, name, size=3, activation="relu", **kwargs):
    """A 'same'-padded Conv2D, the building block of every conv model here."""
    return layers.Conv2D(filters, size, padding="same", activation=activation,
                         name=name, **kwargs)


def _batch_norm(name):
    """Batch normalization whose inference statistics keep up with short runs.

    Keras' default momentum (0.99) averages over ~100 steps; in a few-epoch run its
    moving statistics still lag the weights, and inference-mode reconstructions
    come out far worse than training-mode ones. 0.9 (~10 steps) avoids that.
    """
    return layers.BatchNormalization(momentum=0.9, name=name)


def conv_bn_relu(filters, name, strides=1):
    """A 3x3 'same' convolution (no bias: batch norm shifts), batch norm,
    ReLU."""
    return [layers.Conv2D(filters, 3, strides=strides, padding="same",
                          use_bias=False, name=name),
            _batch_norm(f"{name}_bn"),
            layers.Activation("relu", name=f"{name}_relu")]


def count_params(model) -> dict:
    """Total, trainable and non-trainable parameter counts of ``model``."""
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    frozen = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    return {"total": trainable + frozen, "trainable": trainable,
            "non_trainable": frozen}


def dense_autoencoder(code_size=64, hidden=(256,)):
    """Fully connected AE: 784 -> hidden -> code -> reversed hidden -> 784.

    The notMNIST seed's "Model 1" (trained with Adam on MSE). With the defaults,
    784-256-64-256-784, all ReLU but a sigmoid output: 435,536 parameters.
    """
    x = keras.Input(shape=(FLAT_SIZE,), name="pixels")
    h = _chain(x, *[layers.Dense(n, activation="relu", name=f"enc_dense{i}")
                    for i, n in enumerate(hidden, 1)])
    code = layers.Dense(code_size, activation="relu", name="code")(h)
    encoder = keras.Model(x, code, name="dense_ae_encoder")

    z = keras.Input(shape=(code_size,), name="code")
    h = _chain(z, *[layers.Dense(n, activation="relu", name=f"dec_dense{i}")
                    for i, n in enumerate(reversed(hidden), 1)])
    out = layers.Dense(FLAT_SIZE, activation="sigmoid",
                       name="reconstruction")(h)
    decoder = keras.Model(z, out, name="dense_ae_decoder")
    return encoder, decoder, _assemble(encoder, decoder, (FLAT_SIZE,),
                                       "dense_ae")


def single_layer_autoencoder(encoding_size=32):
    """The TensorFlow seed's AE: one Dense layer in, one Dense layer out.

    Both layers use a sigmoid, as in the classic TensorFlow tutorials, so the
    code lies in ``(0, 1)``. The seed trained it with Adagrad on MSE. With 32
    code units: 25,120 + 25,872 = 50,992 parameters."""
    x = keras.Input(shape=(FLAT_SIZE,), name="pixels")
    code = layers.Dense(encoding_size, activation="sigmoid", name="code")(x)
    encoder = keras.Model(x, code, name="single_layer_ae_encoder")

    z = keras.Input(shape=(encoding_size,), name="code")
    out = layers.Dense(FLAT_SIZE, activation="sigmoid",
                       name="reconstruction")(z)
    decoder = keras.Model(z, out, name="single_layer_ae_decoder")
    return encoder, decoder, _assemble(encoder, decoder, (FLAT_SIZE,),
                                       "single_layer_ae")


def conv_autoencoder(code_channels=128, name="conv_ae"):
    """The notMNIST blog seed's conv AE (trained with RMSprop on MSE).

    Encoder: conv 32 -> pool -> conv 64 -> pool -> conv 128, a 7x7x128 code
    (92,672 parameters). Decoder: conv 128 -> upsample -> conv 64 -> upsample ->
    conv 1 with a sigmoid (221,953). All kernels 3x3; 314,625 parameters in all.
    ``code_channels``: the code's channels, if not the seed's 128.
    """
    x = keras.Input(shape=IMAGE_SHAPE, name="image")
    code = _chain(x,
                  _conv(32, "enc_conv1"),
                  layers.MaxPooling2D(2, name="enc_pool1"),
                  _conv(64, "enc_conv2"),
                  layers.MaxPooling2D(2, name="enc_pool2"),
                  _conv(code_channels, "code"))
    encoder = keras.Model(x, code, name=f"{name}_encoder")

    z = keras.Input(shape=(7, 7, code_channels), name="code")
    out = _chain(z,
                 _conv(128, "dec_conv1"),
                 layers.UpSampling2D(2, name="dec_up1"),
                 _conv(64, "dec_conv2"),
                 layers.UpSampling2D(2, name="dec_up2"),
                 _conv(1, "reconstruction", activation="sigmoid"))
    decoder = keras.Model(z, out, name=f"{name}_decoder")
    return encoder, decoder, _assemble(encoder, decoder, IMAGE_SHAPE, name)


def compact_conv_autoencoder(code_size=6):
    """The MNIST/Fashion seed's deep conv AE with a tiny dense code.

    The encoder squeezes 28x28 -> 14x14 -> 7x7 with 32-channel convs, narrows
    the channels 16 -> 4 -> 1 and maps the 49 values to ``code_size`` linear
    units. The decoder expands the code to a 2x2 map, upsamples x7 then x2 back
    to 28x28. With 6 code units: 35,089 + 42,433 = 77,522 parameters (224
    non-trainable, the batch-norm moving statistics). Its batch norms keep up
    with short runs (momentum 0.9, see :func:`_batch_norm`): with Keras's
    default, 0.99, the validation MSE of a short MNIST run lags far behind
    the training MSE (chapter 3)."""
    x = keras.Input(shape=IMAGE_SHAPE, name="image")
    code = _chain(x,
                  _conv(32, "enc_conv1"), _conv(32, "enc_conv2"),
                  layers.MaxPooling2D(2, name="enc_pool1"),           # 14x14
                  _batch_norm("enc_bn1"),
                  _conv(32, "enc_conv3"), _conv(32, "enc_conv4"),
                  _conv(32, "enc_conv5", size=2),
                  layers.MaxPooling2D(2, name="enc_pool2"),           # 7x7
                  _batch_norm("enc_bn2"),
                  _conv(16, "enc_conv6", size=2), _conv(4, "enc_conv7", size=2),
                  _conv(1, "enc_conv8", size=2),
                  layers.Flatten(name="enc_flatten"),         # 49 values
                  layers.Dense(code_size, name="code"))       # linear
    encoder = keras.Model(x, code, name="compact_conv_ae_encoder")

    z = keras.Input(shape=(code_size,), name="code")
    out = _chain(z,
                 layers.Dense(4, activation="relu", name="dec_dense"),
                 layers.Reshape((2, 2, 1), name="dec_reshape"),
                 _conv(4, "dec_conv1", size=2), _conv(16, "dec_conv2", size=2),
                 _batch_norm("dec_bn1"),
                 layers.UpSampling2D(7, name="dec_up1"),              # 14x14
                 _conv(32, "dec_conv3"), _conv(32, "dec_conv4"),
                 _conv(32, "dec_conv5"),
                 _batch_norm("dec_bn2"),
                 layers.UpSampling2D(2, name="dec_up2"),              # 28x28
                 _conv(32, "dec_conv6"), _conv(32, "dec_conv7"),
                 _conv(1, "reconstruction", activation="sigmoid"))
    decoder = keras.Model(z, out, name="compact_conv_ae_decoder")
    return encoder, decoder, _assemble(encoder, decoder, IMAGE_SHAPE,
                                       "compact_conv_ae")


def cnn_classifier_seed(num_classes=10):
    """The notMNIST seed's "Model 3": a small CNN classifier (32,874
    parameters).

    Three 3x3 'valid' conv + 2x2 max-pool stages (28 -> 13 -> 5 -> 1), then
    Dense 64, dropout 0.5 and a softmax over ``num_classes`` letters."""
    x = keras.Input(shape=IMAGE_SHAPE, name="image")
    probs = _chain(x,
                   layers.Conv2D(32, 3, activation="relu", name="conv1"),
                   layers.MaxPooling2D(2, name="pool1"),
                   layers.Conv2D(32, 3, activation="relu", name="conv2"),
                   layers.MaxPooling2D(2, name="pool2"),
                   layers.Conv2D(64, 3, activation="relu", name="conv3"),
                   layers.MaxPooling2D(2, name="pool3"),
                   layers.Flatten(name="flatten"),
                   layers.Dense(64, activation="relu", name="dense"),
                   layers.Dropout(0.5, name="dropout"),
                   layers.Dense(num_classes, activation="softmax",
                                name="probs"))
    return keras.Model(x, probs, name="cnn_classifier_seed")


def classifier_head(num_classes):
    """Global average pooling, dropout (0.3) and a softmax layer: few parameters
    to overfit."""
    return [layers.GlobalAveragePooling2D(name="gap"),
            layers.Dropout(0.3, name="dropout"),
            layers.Dense(num_classes, activation="softmax", name="probs")]


def cnn_classifier_improved(num_classes=10, width=32):
    """A stronger CNN classifier: two conv blocks per resolution, batch norm, dropout.

    Changes from :func:`cnn_classifier_seed`: 'same' padding and two 3x3 convs per stage
    (28 -> 14 -> 7), batch normalization after each conv, global average pooling instead
    of a large dense layer, and dropout before the softmax. With ``width=32``:
    about 0.29 million parameters.
    """
    def block(filters, i):
        return [*conv_bn_relu(filters, f"conv{i}a"), *conv_bn_relu(filters, f"conv{i}b")]

    x = keras.Input(shape=IMAGE_SHAPE, name="image")
    probs = _chain(x,
                   *block(width, 1), layers.MaxPooling2D(2, name="pool1"),       # 14x14
                   *block(2 * width, 2), layers.MaxPooling2D(2, name="pool2"),   # 7x7
                   *block(4 * width, 3),
                   *classifier_head(num_classes))
    return keras.Model(x, probs, name="cnn_classifier_improved")


def cnn_classifier_strided(num_classes=10, width=16):
    """A CPU-friendly variant of :func:`cnn_classifier_improved`.

    One 3x3 conv at full resolution, then strided 3x3 convs halve the size
    (28 -> 14 -> 7), each followed by a 3x3 conv; batch norm after every conv,
    global average pooling and dropout before the softmax. Only ``width``
    channels ever run at 28x28, where most of the arithmetic is. With
    ``width=16``: 5.5 million multiply-adds per image (the improved CNN at the
    same width: 7.3 million).
    """
    x = keras.Input(shape=IMAGE_SHAPE, name="image")
    probs = _chain(x,
                   *conv_bn_relu(width, "conv1"),
                   *conv_bn_relu(2 * width, "down1", strides=2),       # 14x14
                   *conv_bn_relu(2 * width, "conv2"),
                   *conv_bn_relu(4 * width, "down2", strides=2),       # 7x7
                   *conv_bn_relu(4 * width, "conv3"),
                   *classifier_head(num_classes))
    return keras.Model(x, probs, name="cnn_classifier_strided")


def dense_autoencoder_improved(code_size=64):
    """A deeper dense AE: 784-512-256-code-256-512-784 (1,100,112 parameters).

    Changes from :func:`dense_autoencoder`: two hidden layers each side, so each
    step compresses less, and a *linear* code layer, so no code unit can get
    stuck at zero as a ReLU unit can ("dead" units waste code capacity)."""
    x = keras.Input(shape=(FLAT_SIZE,), name="pixels")
    code = _chain(x,
                  layers.Dense(512, activation="relu", name="enc_dense1"),
                  layers.Dense(256, activation="relu", name="enc_dense2"),
                  layers.Dense(code_size, name="code"))               # linear
    encoder = keras.Model(x, code, name="dense_ae_improved_encoder")

    z = keras.Input(shape=(code_size,), name="code")
    out = _chain(z,
                 layers.Dense(256, activation="relu", name="dec_dense1"),
                 layers.Dense(512, activation="relu", name="dec_dense2"),
                 layers.Dense(FLAT_SIZE, activation="sigmoid",
                              name="reconstruction"))
    decoder = keras.Model(z, out, name="dense_ae_improved_decoder")
    return encoder, decoder, _assemble(encoder, decoder, (FLAT_SIZE,),
                                       "dense_ae_improved")


def conv_autoencoder_improved(code_channels=32):
    """A stronger conv AE with a 7x7x``code_channels`` code (a quarter of the
    seed's).

    Changes from :func:`conv_autoencoder`: strided convs downsample instead of
    max-pooling (the network learns *what* to keep), ``Conv2DTranspose``
    upsamples instead of copying pixels, batch normalization steadies training,
    and the code is linear (no dead ReLU units). Default: 301,345 parameters."""
    x = keras.Input(shape=IMAGE_SHAPE, name="image")
    code = _chain(x,
                  _conv(32, "enc_conv1"),
                  _conv(64, "enc_down1", strides=2),                  # 14x14
                  _batch_norm("enc_bn1"),
                  _conv(64, "enc_conv2"),
                  _conv(128, "enc_down2", strides=2),                 # 7x7
                  _batch_norm("enc_bn2"),
                  _conv(code_channels, "code", size=1, activation=None))
    encoder = keras.Model(x, code, name="conv_ae_improved_encoder")

    z = keras.Input(shape=(7, 7, code_channels), name="code")
    out = _chain(z,
                 _conv(128, "dec_conv1"),
                 layers.Conv2DTranspose(64, 3, strides=2,       # 14x14
                                        padding="same", activation="relu",
                                        name="dec_up1"),
                 _batch_norm("dec_bn1"),
                 _conv(64, "dec_conv2"),
                 layers.Conv2DTranspose(32, 3, strides=2,       # 28x28
                                        padding="same", activation="relu",
                                        name="dec_up2"),
                 _batch_norm("dec_bn2"),
                 _conv(1, "reconstruction", activation="sigmoid"))
    decoder = keras.Model(z, out, name="conv_ae_improved_decoder")
    return encoder, decoder, _assemble(encoder, decoder, IMAGE_SHAPE,
                                       "conv_ae_improved")


def conv_autoencoder_bottleneck(code_size=32, channels=32):
    """The improved conv AE squeezed through a dense, undercomplete code.

    :func:`conv_autoencoder_improved`'s encoder makes its 7x7x``channels`` map;
    a linear dense layer maps the flattened map to ``code_size`` numbers, fewer
    than the 784 pixels, so the model cannot copy its input. The decoder maps
    the code back to a 7x7x``channels`` map and runs the improved decoder. With
    32 numbers: 184,704 + 218,593 = 403,297 parameters."""
    conv_encoder, conv_decoder, _ = conv_autoencoder_improved(channels)
    x = keras.Input(shape=IMAGE_SHAPE, name="image")
    code = _chain(x, conv_encoder, layers.Flatten(name="enc_flatten"),
                  layers.Dense(code_size, name="code"))               # linear
    encoder = keras.Model(x, code, name="conv_ae_bottleneck_encoder")

    z = keras.Input(shape=(code_size,), name="code")
    out = _chain(z, layers.Dense(7 * 7 * channels, name="dec_dense"),
                 layers.Reshape((7, 7, channels), name="dec_reshape"),
                 conv_decoder)
    decoder = keras.Model(z, out, name="conv_ae_bottleneck_decoder")
    return encoder, decoder, _assemble(encoder, decoder, IMAGE_SHAPE,
                                       "conv_ae_bottleneck")


def deep_dense_autoencoder(code_size=10, hidden=(500, 500, 2000),
                           output_activation=None):
    """The clustering literature's dense AE (DEC, IDEC, N2D):
    784-500-500-2000-``code_size`` and its mirror image, ReLU hidden layers, a
    linear code and (as there) a linear output; 3,330,794 parameters for a
    10-number code. Built to make codes for clustering (chapter 5);
    ``output_activation="sigmoid"`` keeps reconstructions in [0, 1]."""
    x = keras.Input(shape=(FLAT_SIZE,), name="pixels")
    code = _chain(x, *[layers.Dense(units, activation="relu",
                                    name=f"enc_dense{i}")
                       for i, units in enumerate(hidden, 1)],
                  layers.Dense(code_size, name="code"))               # linear
    encoder = keras.Model(x, code, name="deep_dense_ae_encoder")

    z = keras.Input(shape=(code_size,), name="code")
    out = _chain(z, *[layers.Dense(units, activation="relu",
                                   name=f"dec_dense{i}")
                      for i, units in enumerate(reversed(hidden), 1)],
                 layers.Dense(FLAT_SIZE, activation=output_activation,
                              name="reconstruction"))
    decoder = keras.Model(z, out, name="deep_dense_ae_decoder")
    return encoder, decoder, _assemble(encoder, decoder, (FLAT_SIZE,),
                                       "deep_dense_ae")


# ----------------------------------------------------------------- chapter 3's variants


def conv_autoencoder_narrow(code_channels=8):
    """The notMNIST blog seed's conv AE (:func:`conv_autoencoder`) with
    ``code_channels`` channels in its code instead of 128: a 7x7x8 code holds
    392 numbers, fewer than the 784 pixels, and keeps the 7x7 layout."""
    return conv_autoencoder(code_channels, name="conv_ae_narrow")


def resize_conv_decoder(code_channels=32):
    """:func:`conv_autoencoder_improved`'s decoder with each stride-2
    ``Conv2DTranspose`` replaced by a resize-convolution: nearest-neighbour
    upsampling, then a 3x3 convolution (Odena et al. 2016). Every output pixel
    then gets the same number of kernel taps, so there is no checkerboard."""
    z = keras.Input(shape=(7, 7, code_channels), name="code")
    out = _chain(z,
                 _conv(128, "dec_conv1"),
                 layers.UpSampling2D(2, name="dec_resize1"),          # 14x14
                 _conv(64, "dec_up1"),
                 _batch_norm("dec_bn1"),
                 _conv(64, "dec_conv2"),
                 layers.UpSampling2D(2, name="dec_resize2"),          # 28x28
                 _conv(32, "dec_up2"),
                 _batch_norm("dec_bn2"),
                 _conv(1, "reconstruction", activation="sigmoid"))
    return keras.Model(z, out, name="resize_conv_decoder")


def with_batch_norm_momentum(parts, momentum):
    """Set the momentum of every ``BatchNormalization`` layer of the models
    ``parts`` (e.g. a builder's encoder and decoder) to ``momentum``, before
    training; returns ``parts``. Keras's default is 0.99, the book's 0.9
    (:func:`_batch_norm`)."""
    for part in parts:
        for layer in part.layers:
            if isinstance(layer, layers.BatchNormalization):
                layer.momentum = float(momentum)
    return parts
