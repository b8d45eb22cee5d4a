"""How much arithmetic a model does: multiply-adds per image, counted analytically per layer."""

from __future__ import annotations

import math

import keras

_CONVS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
_TRANSPOSED = (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose)


def multiply_adds(model) -> int:
    """Multiply-adds of one image's forward pass through ``model`` (a built Keras model).

    Dense: inputs x units (per position, for inputs with more axes); a convolution: output
    values x kernel size x input channels / groups; a transposed convolution: input values x
    kernel size x filters. Nested models are counted through; every other layer counts 0
    (pooling, batch norm, activations, biases). Each layer is counted once, as first called.
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += multiply_adds(layer)
        elif isinstance(layer, keras.layers.Dense):
            total += math.prod(layer.input.shape[1:]) * layer.units
        elif isinstance(layer, _CONVS):
            channels = layer.input.shape[-1 if layer.data_format == "channels_last" else 1]
            total += (math.prod(layer.output.shape[1:]) * math.prod(layer.kernel_size)
                      * channels // layer.groups)
        elif isinstance(layer, _TRANSPOSED):
            total += math.prod(layer.input.shape[1:]) * math.prod(layer.kernel_size) * layer.filters
    return total
