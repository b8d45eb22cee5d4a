"""Variational autoencoders in Keras 3 (TensorFlow, JAX and PyTorch alike).

The encoder maps an image to the mean and log-variance of a diagonal Gaussian posterior
``q(z|x)``; a code is sampled with the reparameterisation trick ``z = mean + exp(log_var / 2) * e``,
``e ~ N(0, I)`` drawn from the model's :class:`keras.random.SeedGenerator`; the decoder maps the code
to the logits of a Bernoulli distribution per pixel (or to the mean of a Gaussian). The loss is
the negative evidence lower bound (ELBO), reconstruction plus ``beta`` times the KL divergence to
the standard normal prior, both in nats per image. :class:`VAE` overrides ``compute_loss`` only, so
Keras' own ``train_step`` runs it on every backend, and logs the two terms as ``reconstruction``
and ``kl``: their epoch means add up to the logged ``loss`` (for ``beta = 1``).

Images are flat vectors of 784 values in [0, 1]. With ``binarize=True`` (the Bernoulli decoder)
every training batch is binarised afresh (each pixel is 1 with probability its intensity: dynamic
binarisation); validation and test images are binarised once, with :func:`binarize`.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops
from scipy.special import expit, logsumexp

FLAT_SIZE = 784


# ------------------------------------------------------------------------------ the terms

def kl_divergence(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) per example, summed over the code (nats)."""
    return 0.5 * ops.sum(ops.exp(log_var) + ops.square(mean) - 1.0 - log_var, axis=-1)


def bernoulli_log_likelihood(x, logits):
    """log p(x | logits) per example for Bernoulli pixels, summed over pixels (nats)."""
    return ops.sum(x * logits - ops.softplus(logits), axis=-1)


def gaussian_log_likelihood(x, mean, std: float):
    """log N(x; mean, std^2 I) per example, summed over pixels (nats)."""
    d = ops.shape(x)[-1]
    return (-0.5 * ops.sum(ops.square(x - mean), axis=-1) / std**2
            - d * (math.log(std) + 0.5 * math.log(2 * math.pi)))


def binarize(x, seed: int = 0) -> np.ndarray:
    """One fixed binarisation: each pixel is 1 with probability its intensity (seeded)."""
    rng = np.random.default_rng(seed)
    return (rng.uniform(size=np.shape(x)) < x).astype("float32")


# ------------------------------------------------------------------------------ networks

def dense_encoder(latent_dim: int = 32, hidden=(512, 256), input_size: int = FLAT_SIZE):
    """Flat image (plus an optional condition) -> ``[mean, log_var]`` of the posterior."""
    x = keras.Input(shape=(input_size,), name="pixels")
    h = x
    for i, n in enumerate(hidden, 1):
        h = layers.Dense(n, activation="relu", name=f"enc_dense{i}")(h)
    mean = layers.Dense(latent_dim, name="mean")(h)
    log_var = layers.Dense(latent_dim, name="log_var")(h)
    return keras.Model(x, [mean, log_var], name="vae_encoder")


def dense_decoder(latent_dim: int = 32, hidden=(256, 512), condition_size: int = 0):
    """Code (plus an optional condition) -> 784 logits (Bernoulli) or pre-sigmoid means."""
    z = keras.Input(shape=(latent_dim + condition_size,), name="code")
    h = z
    for i, n in enumerate(hidden, 1):
        h = layers.Dense(n, activation="relu", name=f"dec_dense{i}")(h)
    logits = layers.Dense(FLAT_SIZE, name="logits")(h)
    return keras.Model(z, logits, name="vae_decoder")


def conv_encoder(latent_dim: int = 32, filters=(32, 64)):
    """A small convolutional encoder: two stride-2 3x3 convolutions, then mean and log-variance."""
    x = keras.Input(shape=(FLAT_SIZE,), name="pixels")
    h = layers.Reshape((28, 28, 1))(x)
    for i, f in enumerate(filters, 1):
        h = layers.Conv2D(f, 3, strides=2, padding="same", activation="relu",
                          name=f"enc_conv{i}")(h)
    h = layers.Flatten()(h)
    mean = layers.Dense(latent_dim, name="mean")(h)
    log_var = layers.Dense(latent_dim, name="log_var")(h)
    return keras.Model(x, [mean, log_var], name="conv_vae_encoder")


def conv_decoder(latent_dim: int = 32, filters=(64, 32)):
    """The mirror image: a dense layer to 7x7, two stride-2 transposed convolutions, logits."""
    z = keras.Input(shape=(latent_dim,), name="code")
    h = layers.Dense(7 * 7 * filters[0], activation="relu", name="dec_dense")(z)
    h = layers.Reshape((7, 7, filters[0]))(h)
    for i, f in enumerate(filters, 1):
        h = layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu",
                                   name=f"dec_deconv{i}")(h)
    h = layers.Conv2D(1, 3, padding="same", name="logits")(h)
    return keras.Model(z, layers.Flatten()(h), name="conv_vae_decoder")


# ------------------------------------------------------------------------------ the model

class VAE(keras.Model):
    """Encoder + reparameterised sampling + decoder, trained on the negative (beta-)ELBO.

    ``call`` returns a dict: ``logits`` (decoder output), ``mean`` and ``log_var`` (posterior),
    ``target`` (the pixels the likelihood is computed on: freshly binarised while training with
    ``binarize=True``). ``likelihood`` is ``"bernoulli"`` or ``"gaussian"`` (mean: the sigmoid of
    the decoder output, fixed standard deviation ``decoder_std``). With ``condition_size = c`` the
    last ``c`` input columns are a condition (e.g. a one-hot label) given to encoder and decoder.
    """

    def __init__(self, encoder, decoder, beta: float = 1.0, binarize: bool = True,
                 likelihood: str = "bernoulli", decoder_std: float = 1.0,
                 condition_size: int = 0, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', not {likelihood!r}")
        self.encoder, self.decoder = encoder, decoder
        self.beta, self.binarize, self.likelihood = float(beta), binarize, likelihood
        self.decoder_std, self.condition_size = float(decoder_std), condition_size
        self.seed, self.seed_generator = seed, keras.random.SeedGenerator(seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.built = True  # encoder and decoder are built models: weights can be loaded

    def get_config(self):
        """Every setting that decides the trained model (the weights cache keys on it)."""
        return {**super().get_config(),
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder),
                "beta": self.beta, "binarize": self.binarize, "likelihood": self.likelihood,
                "decoder_std": self.decoder_std, "condition_size": self.condition_size,
                "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for part in ("encoder", "decoder"):
            config[part] = keras.saving.deserialize_keras_object(config[part])
        return cls(**config)

    def _split(self, x):
        if not self.condition_size:
            return x, None
        return x[:, :-self.condition_size], x[:, -self.condition_size:]

    def call(self, x, training=False):
        pixels, condition = self._split(x)
        if training and self.binarize:
            noise = keras.random.uniform(ops.shape(pixels),
                                         seed=self.seed_generator)
            pixels = ops.cast(noise < pixels, pixels.dtype)
        seen = (pixels if condition is None
                else ops.concatenate([pixels, condition], -1))
        mean, log_var = self.encoder(seen, training=training)
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        z = mean + ops.exp(0.5 * log_var) * eps  # the reparameterisation trick
        if condition is not None:
            z = ops.concatenate([z, condition], -1)
        logits = self.decoder(z, training=training)
        return {"logits": logits, "mean": mean, "log_var": log_var,
                "target": pixels}

    def log_likelihood(self, target, logits):
        """log p(target | z) per example (nats), for the decoder output ``logits``."""
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(target, logits)
        return gaussian_log_likelihood(target, ops.sigmoid(logits), self.decoder_std)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training=True):
        reconstruction = -self.log_likelihood(y_pred["target"],
                                              y_pred["logits"])
        kl = kl_divergence(y_pred["mean"], y_pred["log_var"])
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return ops.mean(reconstruction + self.beta * kl)

    # ---------------------------------------------------------------- inference helpers
    def encode(self, x, batch_size: int = 1000):
        """Posterior means and log-variances of ``x`` as NumPy arrays."""
        mean, log_var = self.encoder.predict(x, batch_size=batch_size, verbose=0)
        return mean, log_var

    def decode(self, z, batch_size: int = 1000):
        """Decoded images (Bernoulli probabilities / Gaussian means) of codes ``z``."""
        logits = self.decoder.predict(np.asarray(z, "float32"), batch_size=batch_size, verbose=0)
        return expit(logits)

    def sample(self, n: int, seed: int = 0, condition=None):
        """``n`` images decoded from codes drawn from the prior N(0, I) with a NumPy seed."""
        latent = self.encoder.output[0].shape[-1]
        z = np.random.default_rng(seed).standard_normal((n, latent)).astype("float32")
        if condition is not None:
            z = np.concatenate([z, np.asarray(condition, "float32")], axis=1)
        return self.decode(z)


def log_weights(vae: VAE, x, k: int, seed: int = 0, chunk: int = 20000) -> np.ndarray:
    """Importance log-weights ``log p(x, z_j) - log q(z_j | x)``, ``z_j ~ q(z | x)``, j = 1..k.

    Returns an array of shape ``(len(x), k)`` (nats). ``x`` must be the (binarised) targets. The
    codes are drawn with a NumPy generator seeded by ``seed``, ``chunk`` codes at a time.
    """
    if vae.condition_size:
        raise ValueError("log_weights handles unconditional VAEs only")
    x = np.asarray(x, "float32")
    mean, log_var = vae.encode(x)
    rng = np.random.default_rng(seed)
    per = max(1, chunk // k)
    out = np.empty((len(x), k), np.float64)
    for start in range(0, len(x), per):
        m, lv = mean[start:start + per], log_var[start:start + per]
        n, d = m.shape
        eps = rng.standard_normal((n, k, d)).astype("float32")
        z = (m[:, None] + np.exp(0.5 * lv)[:, None] * eps).reshape(n * k, d)
        logits = vae.decoder(ops.convert_to_tensor(z), training=False)
        target = ops.convert_to_tensor(np.repeat(x[start:start + per], k, axis=0))
        log_px = ops.convert_to_numpy(vae.log_likelihood(target, logits)).reshape(n, k)
        log_prior = -0.5 * np.sum(z.reshape(n, k, d) ** 2 + math.log(2 * math.pi), axis=-1)
        log_q = -0.5 * np.sum(lv[:, None] + eps**2 + math.log(2 * math.pi), axis=-1)
        out[start:start + n] = log_px + log_prior - log_q
    return out


def elbo_terms(vae: VAE, x, samples: int = 10, batch_size: int = 1000) -> dict:
    """Per-image reconstruction term ``-E_q[log p(x|z)]`` (averaged over ``samples`` codes drawn
    with the model's seed generator) and the analytic KL, in nats; ``x`` as the model takes it
    (binarised targets; a condition appended for a conditional model)."""
    x = np.asarray(x, "float32")
    rec, kl = np.zeros(len(x)), np.zeros(len(x))
    for start in range(0, len(x), batch_size):
        batch = ops.convert_to_tensor(x[start:start + batch_size])
        for _ in range(samples):
            out = vae(batch, training=False)
            ll = vae.log_likelihood(out["target"], out["logits"])
            rec[start:start + len(x[start:start + batch_size])] -= ops.convert_to_numpy(ll) / samples
        kl[start:start + len(x[start:start + batch_size])] = ops.convert_to_numpy(
            kl_divergence(out["mean"], out["log_var"]))
    return {"reconstruction": rec, "kl": kl, "neg_elbo": rec + kl}


def bounds(weights: np.ndarray) -> dict:
    """Per-image ELBO (mean log-weight) and importance-weighted bound (log mean weight), nats."""
    weights = np.asarray(weights, np.float64)
    iw = logsumexp(weights, axis=1) - math.log(weights.shape[1])  # -inf for a row of -inf
    return {"elbo": weights.mean(axis=1), "iw": iw}


def active_units(vae: VAE, x, threshold: float = 0.01) -> tuple[int, np.ndarray]:
    """Burda et al.'s active units: dimensions whose posterior mean varies over the data,
    ``Cov_x(E_q[z_u]) > threshold``. Returns the count and the per-dimension variances."""
    mean, _ = vae.encode(x)
    variances = mean.var(axis=0)
    return int((variances > threshold).sum()), variances


def train(vae: VAE, x_train, x_val, *, name: str, epochs: int, patience: int | None = None,
          learning_rate: float = 1e-3, batch_size: int = 128, verbose: bool = False):
    """Train with Adam on the negative ELBO through :func:`helpers.training.fit` (cached).

    ``x_val`` is the validation part, binarised once when the model uses a Bernoulli decoder."""
    from helpers.training import fit

    return fit(vae, x_train, name=name, epochs=epochs, batch_size=batch_size, loss=None,
               optimizer=keras.optimizers.Adam(learning_rate), patience=patience,
               validation_data=(x_val, x_val), verbose=verbose)
