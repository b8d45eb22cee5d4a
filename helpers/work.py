"""How much arithmetic a model does: multiply-adds per image, counted analytically per layer.

Counted: the multiply-adds of the Dense and convolution layers (transposed ones included) in one
image's forward pass. Not counted: biases, activations, batch normalisation (one multiply-add
per value, foldable into the layer before), pooling and upsampling (no multiplications), and
layers that only move or drop values (reshaping, dropout). Any other layer raises rather than
counting as 0.
"""

from __future__ import annotations

import math

import keras

L = keras.layers
_CONVS = (L.Conv1D, L.Conv2D, L.Conv3D)
_TRANSPOSED = (L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose)
_UNCOUNTED = (L.InputLayer, L.Activation, L.ReLU, L.LeakyReLU, L.Softmax, L.BatchNormalization,
              L.Dropout, L.Flatten, L.Reshape, L.MaxPooling1D, L.MaxPooling2D, L.MaxPooling3D,
              L.AveragePooling1D, L.AveragePooling2D, L.AveragePooling3D,
              L.GlobalMaxPooling1D, L.GlobalMaxPooling2D, L.GlobalMaxPooling3D,
              L.GlobalAveragePooling1D, L.GlobalAveragePooling2D, L.GlobalAveragePooling3D,
              L.UpSampling1D, L.UpSampling2D, L.UpSampling3D)


def multiply_adds(model) -> int:
    """Multiply-adds of one image's forward pass through ``model`` (a built Keras model).

    Dense: inputs x units (per position, for inputs with more axes); a convolution: output
    values x kernel size x input channels / groups; a transposed convolution: input values x
    kernel size x filters. Nested models are counted through; the layers listed in the module's
    docstring count 0, and any other layer type raises a TypeError naming it. Each layer is
    counted once, as first called.
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += multiply_adds(layer)
        elif isinstance(layer, L.Dense):
            total += math.prod(layer.input.shape[1:]) * layer.units
        elif isinstance(layer, _CONVS):
            channels = layer.input.shape[-1 if layer.data_format == "channels_last" else 1]
            total += (math.prod(layer.output.shape[1:]) * math.prod(layer.kernel_size)
                      * channels // layer.groups)
        elif isinstance(layer, _TRANSPOSED):
            total += math.prod(layer.input.shape[1:]) * math.prod(layer.kernel_size) * layer.filters
        elif not isinstance(layer, _UNCOUNTED):
            raise TypeError(f"multiply_adds cannot count a {type(layer).__name__} layer "
                            f"({layer.name!r}); see helpers.work for what it counts")
    return total
