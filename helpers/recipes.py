"""Training recipes that several chapters share, so each is written (and cached) once."""

from __future__ import annotations

import numpy as np

from helpers import models, noise
from helpers.augment import random_shifts
from helpers.training import fit, warmup_cosine


def seed_dense_ae(name: str, x_train, x_test, code_size: int = 64, verbose: bool = True):
    """The notMNIST seed's Model 1 as it was trained: Adam, MSE, Keras's default batch of 32,
    30 epochs. Returns ``(encoder, decoder, autoencoder, run)``."""
    encoder, decoder, autoencoder = models.dense_autoencoder(code_size=code_size)
    run = fit(autoencoder, x_train, name=name, epochs=30, batch_size=32, optimizer="adam",
              validation_data=(x_test, x_test), verbose=verbose)
    return encoder, decoder, autoencoder, run


def improved_dense_ae(name: str, x_train, x_test, shifted_copies: int = 3, epochs: int = 30,
                      code_size: int = 64, verbose: bool = True):
    """The deeper dense AE with a linear code, trained on the images plus ``shifted_copies``
    copies moved by up to 2 pixels, with Adam and a warm-up + cosine schedule peaking at 0.001.
    Returns ``(encoder, decoder, autoencoder, run)``."""
    import keras

    rng = np.random.default_rng(3)
    x = np.concatenate([x_train] + [random_shifts(x_train, 2, rng) for _ in range(shifted_copies)])
    encoder, decoder, autoencoder = models.dense_autoencoder_improved(code_size=code_size)
    run = fit(autoencoder, x, name=name, epochs=epochs, batch_size=128,
              optimizer=keras.optimizers.Adam(warmup_cosine(1e-3, epochs, len(x))),
              validation_data=(x_test, x_test), verbose=verbose)
    return encoder, decoder, autoencoder, run


def improved_conv_ae(name: str, x_train, x_test, epochs: int = 8, verbose: bool = True):
    """The improved conv AE (strided convs, batch-norm, linear 7x7x32 code) trained with Adam and
    a warm-up + cosine schedule peaking at 0.002, batch 128. Returns
    ``(encoder, decoder, autoencoder, run)``."""
    import keras

    encoder, decoder, autoencoder = models.conv_autoencoder_improved()
    run = fit(autoencoder, x_train, name=name, epochs=epochs, batch_size=128,
              optimizer=keras.optimizers.Adam(warmup_cosine(2e-3, epochs, len(x_train))),
              validation_data=(x_test, x_test), verbose=verbose)
    return encoder, decoder, autoencoder, run


def improved_denoiser(name: str, x_train, x_test, epochs: int = 12, verbose: bool = True):
    """The improved conv AE trained as a denoiser: inputs are two copies of ``x_train``, each
    image damaged by :func:`helpers.noise.varied_damage`, targets the clean images; Adam with a
    warm-up + cosine schedule peaking at 0.002, batch 128. Validation: ``x_test`` with Gaussian
    noise of factor 0.5 (the seed's noise). Returns ``(encoder, decoder, autoencoder, run)``."""
    import keras

    rng = np.random.default_rng(2)
    noisy = np.concatenate([noise.varied_damage(x_train, rng) for _ in range(2)])
    clean = np.concatenate([x_train, x_train])
    validation = (noise.gaussian(x_test, 0.5, np.random.default_rng(100)), x_test)
    encoder, decoder, autoencoder = models.conv_autoencoder_improved()
    run = fit(autoencoder, noisy, clean, name=name, epochs=epochs, batch_size=128,
              optimizer=keras.optimizers.Adam(warmup_cosine(2e-3, epochs, len(noisy))),
              validation_data=validation, verbose=verbose)
    return encoder, decoder, autoencoder, run


COMPACT_AE6_EPOCHS = {"mnist": 20, "fashion_mnist": 8}  # about the same number of weight updates each


def compact_ae6(dataset: str, x_train, x_test, verbose: bool = True):
    """The MNIST/Fashion seed's 6-d fully convolutional AE, trained with Adam on MSE, batch 128,
    for ``COMPACT_AE6_EPOCHS[dataset]`` epochs (the seed does not say how it trained).
    Returns ``(encoder, decoder, autoencoder, run)``."""
    encoder, decoder, autoencoder = models.compact_conv_autoencoder(code_size=6)
    run = fit(autoencoder, x_train, name=f"{dataset}_compact_ae6", epochs=COMPACT_AE6_EPOCHS[dataset],
              batch_size=128, optimizer="adam", validation_data=(x_test, x_test), verbose=verbose)
    return encoder, decoder, autoencoder, run
