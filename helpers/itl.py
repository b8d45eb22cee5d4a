"""Information-theoretic learning (ITL) terms that pull autoencoder codes onto a prior.

Everything is estimated with Gaussian (Parzen) kernels of width ``sigma``, written with
``keras.ops`` so it runs on every Keras backend:

* the *information potential* ``V(X) = mean_ij G(x_i - x_j)`` with ``G`` a Gaussian of width
  ``sigma * sqrt(2)`` (the convolution of two Parzen kernels);
* Renyi's quadratic entropy ``H2(X) = -log V(X)``: large when the samples spread out;
* the cross information potential ``V(X, Y) = mean_ij G(x_i - y_j)`` and the quadratic
  cross-entropy ``H2(X; Y) = -log V(X, Y)``: small when X lies where Y is dense;
* the Cauchy-Schwarz divergence ``D_CS = log V(X) + log V(Y) - 2 log V(X, Y) >= 0``.

:class:`ITLRegularizer` adds ``weight * (H2(codes; prior) - H2(codes))`` to the model's loss,
so training maximises the codes' entropy (spreads them) while minimising their cross-entropy
with samples from the prior (fits them to it). The priors' samplers are plain NumPy.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops


def _pairwise_sq_dists(x, y):
    return ops.maximum(ops.sum(x * x, axis=1)[:, None] + ops.sum(y * y, axis=1)[None, :]
                       - 2.0 * ops.matmul(x, ops.transpose(y)), 0.0)


def information_potential(x, y=None, sigma: float = 1.0):
    """Parzen estimate of ``integral p_x p_y`` (``V(X)`` when ``y`` is None)."""
    y = x if y is None else y
    dim = ops.shape(x)[1]
    s2 = 2.0 * sigma ** 2  # variance of the convolved kernel
    norm = (2.0 * math.pi * s2) ** (-dim / 2)
    return norm * ops.mean(ops.exp(-_pairwise_sq_dists(x, y) / (2.0 * s2)))


def renyi_quadratic_entropy(x, sigma: float = 1.0):
    """``H2(X) = -log V(X)``."""
    return -ops.log(information_potential(x, sigma=sigma))


def quadratic_cross_entropy(x, y, sigma: float = 1.0):
    """``H2(X; Y) = -log V(X, Y)``."""
    return -ops.log(information_potential(x, y, sigma=sigma))


def cauchy_schwarz_divergence(x, y, sigma: float = 1.0):
    """``log V(X) + log V(Y) - 2 log V(X, Y)``: zero when the two densities coincide."""
    return (ops.log(information_potential(x, sigma=sigma))
            + ops.log(information_potential(y, sigma=sigma))
            - 2.0 * ops.log(information_potential(x, y, sigma=sigma)))


class ITLRegularizer(keras.layers.Layer):
    """Identity on the codes; while training, adds the ITL prior-matching loss.

    ``prior_samples`` is a bank of samples from the prior; each step compares the batch's codes
    with ``n_prior`` of them drawn at random.
    """

    def __init__(self, prior_samples, weight: float = 0.1, sigma: float = 1.0,
                 n_prior: int = 256, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.prior = np.asarray(prior_samples, dtype="float32")
        self.weight, self.sigma, self.n_prior = weight, sigma, n_prior
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, codes, training=None):
        if training:
            idx = keras.random.randint((self.n_prior,), 0, len(self.prior), seed=self.seed_generator)
            prior = ops.take(ops.convert_to_tensor(self.prior), idx, axis=0)
            self.add_loss(self.weight * (quadratic_cross_entropy(codes, prior, self.sigma)
                                         - renyi_quadratic_entropy(codes, self.sigma)))
        return codes

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "prior_samples": self.prior.tolist(), "weight": self.weight,
                "sigma": self.sigma, "n_prior": self.n_prior}


# ------------------------------------------------------------------------------ priors

def swiss_roll(n: int, rng: np.random.Generator, noise: float = 0.05):
    """``n`` points on a 3-D swiss roll (scaled to about [-1, 1]) and their position along it."""
    t = 1.5 * np.pi * (1 + 2 * rng.random(n))  # angle along the spiral
    height = rng.uniform(-1, 1, n)
    points = np.stack([t * np.cos(t), height * 10, t * np.sin(t)], axis=1) / 10
    return (points + noise * rng.standard_normal(points.shape)).astype("float32"), t


def gaussian(n: int, rng: np.random.Generator, dim: int = 3, scale: float = 1.0):
    """``n`` samples of an isotropic Gaussian ``N(0, scale^2 I)``."""
    return (scale * rng.standard_normal((n, dim))).astype("float32")


def gmm_means(k: int = 10, radius: float = 2.0):
    """``k`` well-separated 3-D component means spread over a sphere (a Fibonacci lattice)."""
    i = np.arange(k) + 0.5
    polar = np.arccos(1 - 2 * i / k)
    azimuth = np.pi * (1 + 5 ** 0.5) * i
    unit = np.stack([np.cos(azimuth) * np.sin(polar), np.sin(azimuth) * np.sin(polar),
                     np.cos(polar)], axis=1)
    return (radius * unit).astype("float32")


def gmm(n: int, rng: np.random.Generator, k: int = 10, radius: float = 2.0, scale: float = 0.25):
    """``n`` 3-D samples of a mixture of ``k`` equal Gaussians, and the component of each."""
    means = gmm_means(k, radius)
    component = rng.integers(0, k, n)
    return (means[component] + scale * rng.standard_normal((n, 3))).astype("float32"), component
