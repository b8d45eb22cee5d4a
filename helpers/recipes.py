"""Training recipes that several chapters share, so each is written (and cached) once.

Every recipe trains on ``x_train`` and watches ``x_val``, the validation part (never the test
part): its curves are the validation curves, and early stopping, where used, stops on it."""

from __future__ import annotations

import numpy as np

from helpers import models, noise
from helpers.augment import random_shifts
from helpers.training import fit, warmup_cosine

SEED = 42


def _build(builder, **kwargs):
    """Seed, then build: a recipe starts from the same initial weights in every chapter, so a
    model trained in one chapter is reused from the cache by the next."""
    import keras

    keras.utils.set_random_seed(SEED)
    return builder(**kwargs)


def seed_dense_ae(name: str, x_train, x_val, code_size: int = 64,
                  verbose: bool = True, patience: int | None = None):
    """The notMNIST seed's Model 1 compiled as the seed shows (Adam, MSE). The
    seed shows no fit call: Keras's default batch of 32 and at most 30 epochs
    are this book's choice. ``patience``: stop when the validation MSE has not
    improved for that many epochs and keep the best epoch. Returns ``(encoder,
    decoder, autoencoder, run)``."""
    encoder, decoder, autoencoder = _build(models.dense_autoencoder,
                                           code_size=code_size)
    run = fit(autoencoder, x_train, name=name, epochs=30, batch_size=32,
              optimizer="adam", validation_data=(x_val, x_val),
              patience=patience, verbose=verbose)
    return encoder, decoder, autoencoder, run


def improved_dense_ae(name: str, x_train, x_val, shifted_copies: int = 3,
                      epochs: int = 30, code_size: int = 64,
                      verbose: bool = True):
    """The deeper dense AE with a linear code, trained on the images plus
    ``shifted_copies`` copies moved by up to 2 pixels, with Adam and a warm-up +
    cosine schedule peaking at 0.001. Returns ``(encoder, decoder, autoencoder,
    run)``."""
    import keras

    rng = np.random.default_rng(3)
    x = np.concatenate([x_train] + [random_shifts(x_train, 2, rng)
                                    for _ in range(shifted_copies)])
    encoder, decoder, autoencoder = _build(models.dense_autoencoder_improved,
                                           code_size=code_size)
    run = fit(autoencoder, x, name=name, epochs=epochs, batch_size=128,
              optimizer=keras.optimizers.Adam(
                  warmup_cosine(1e-3, epochs, len(x))),
              validation_data=(x_val, x_val), verbose=verbose)
    return encoder, decoder, autoencoder, run


def improved_conv_ae(name: str, x_train, x_val, epochs: int = 8,
                     verbose: bool = True, code_size: int | None = None):
    """The improved conv AE (strided convs, batch-norm, linear 7x7x32 code)
    trained with Adam and a warm-up + cosine schedule peaking at 0.002, batch
    128. ``code_size``: train instead the undercomplete variant,
    :func:`helpers.models.conv_autoencoder_bottleneck`, whose code has that many
    numbers. Returns ``(encoder, decoder, autoencoder, run)``."""
    import keras

    if code_size is None:
        builder, sizes = models.conv_autoencoder_improved, {}
    else:
        builder = models.conv_autoencoder_bottleneck
        sizes = {"code_size": code_size}
    encoder, decoder, autoencoder = _build(builder, **sizes)
    run = fit(autoencoder, x_train, name=name, epochs=epochs, batch_size=128,
              optimizer=keras.optimizers.Adam(
                  warmup_cosine(2e-3, epochs, len(x_train))),
              validation_data=(x_val, x_val), verbose=verbose)
    return encoder, decoder, autoencoder, run


def improved_denoiser(name: str, x_train, x_val, epochs: int = 4,
                      verbose: bool = True, damage=None,
                      batch_size: int = 64, fresh: bool = False,
                      loss: str = "mse"):
    """The improved conv AE trained as a denoiser: inputs are two copies of
    ``x_train``, each image damaged by ``damage(images, rng)`` (default
    :func:`helpers.noise.varied_damage`), targets the clean images; Adam with a
    warm-up + cosine schedule peaking at 0.002, batch ``batch_size``, loss
    ``loss`` ("mse" or "binary_crossentropy"; the MSE is tracked either way).

    ``fresh=True``: fresh damage on every pass instead of the same two damaged
    copies each epoch, at the same number of updates: ``2 x epochs`` damaged
    copies (the first two are the fixed run's), trained over once.

    Validation: ``x_val`` under each of the four corruptions of
    :data:`helpers.noise.CORRUPTIONS` (seed 200; 4 x ``len(x_val)`` pairs).
    Returns ``(encoder, decoder, autoencoder, run)``."""
    import keras

    from helpers.profiles import get_profile

    damage = damage or noise.varied_damage
    rng = np.random.default_rng(2)
    copies = 2 * get_profile().epochs(epochs) if fresh else 2
    noisy = np.concatenate([damage(x_train, rng) for _ in range(copies)])
    clean = np.concatenate([x_train] * copies)
    damaged = noise.damaged_copies(x_val, seed=200)
    validation = (np.concatenate(list(damaged.values())),
                  np.concatenate([x_val] * len(damaged)))
    passes = 1 if fresh else epochs
    encoder, decoder, autoencoder = _build(models.conv_autoencoder_improved)
    run = fit(autoencoder, noisy, clean, name=name, epochs=passes,
              batch_size=batch_size, loss=loss,
              metrics=None if loss == "mse" else ["mse"],
              optimizer=keras.optimizers.Adam(
                  warmup_cosine(2e-3, passes, len(noisy), batch_size)),
              validation_data=validation, verbose=verbose)
    return encoder, decoder, autoencoder, run


# The seed does not say how it trained. The budget is counted in updates, not epochs: MNIST
# (official 54,000 training images) and Fashion-MNIST (54,000) both give 422 batches an epoch at
# batch 128, and both get one epoch, 422 updates, a cap set by the book's CPU budget.
COMPACT_AE6_EPOCHS = {"mnist": 1, "fashion_mnist": 1}


def compact_ae6(dataset: str, x_train, x_val, verbose: bool = True):
    """The MNIST/Fashion seed's 6-d fully convolutional AE, trained with Adam on
    MSE, batch 128, for ``COMPACT_AE6_EPOCHS[dataset]`` epochs, with the MSE on
    ``x_val`` measured after each (the seed does not say how it trained).
    Returns ``(encoder, decoder, autoencoder, run)``."""
    encoder, decoder, autoencoder = _build(models.compact_conv_autoencoder,
                                           code_size=6)
    run = fit(autoencoder, x_train, name=f"{dataset}_compact_ae6",
              epochs=COMPACT_AE6_EPOCHS[dataset], batch_size=128,
              optimizer="adam", validation_data=(x_val, x_val),
              verbose=verbose)
    return encoder, decoder, autoencoder, run
