"""Information-theoretic learning (ITL) terms that pull autoencoder codes onto a prior.

Each sample carries a Gaussian (Parzen) kernel of standard deviation ``sigma``, so a sample set
X = {x_1..x_n} stands for the density ``p_X = mean_i N(x_i, sigma^2 I)``. Two such densities
overlap by the *information potential*

    V(X, Y) = integral p_X p_Y = mean_ij N(x_i - y_j; 0, 2 sigma^2 I),

a Gaussian of variance ``2 sigma^2`` (two kernels convolved) averaged over all pairs, computed in
log space (``logsumexp``), so that sets far apart give large finite values and finite gradients
instead of ``log 0`` (one code's share of that gradient is still its softmax weight among all
the pairs: tiny for a code far from the rest), and from distances computed about the sets'
common mean, so that sets far from the origin lose no precision. ``sigma`` must be positive.
From it, all with ``keras.ops`` (any backend; NumPy arrays or tensors in, computed in
``keras.backend.floatx()``, tensors out):

* Renyi's quadratic entropy ``H2(X) = -log V(X, X)``: large when the samples spread out;
* the quadratic cross-entropy ``H2(X; Y) = -log V(X, Y)``: small when X lies where Y is dense;
* the Cauchy-Schwarz divergence ``D_CS = 2 H2(X; Y) - H2(X) - H2(Y) >= 0``, zero iff the two
  Parzen densities coincide.

:class:`ITLRegularizer` adds ``weight * D_CS(codes, prior)`` (less the constant ``H2(prior)``)
to the model's loss. The priors' samplers are plain NumPy.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

OBJECTIVES = {"cauchy_schwarz": 2.0, "as_published": 1.0}  # weight of H2(codes; prior)


def _checked_sigma(sigma) -> float:
    """``sigma`` as a float; a kernel width that is not a positive, finite number is
    refused."""
    if not 0.0 < float(sigma) < math.inf:
        raise ValueError(f"sigma, the kernel width, must be a positive number, "
                         f"not {sigma!r}")
    return float(sigma)


def _pairwise_sq_dists(x, y):
    """``|x_i - y_j|^2`` for every pair, as ``|x|^2 + |y|^2 - 2 x.y`` after moving both sets
    by their common mean (distances do not change): about the origin, that form cancels
    numbers of the size of ``|x|^2`` and loses most of float32's digits far from it."""
    centre = ops.mean(ops.concatenate([x, y], axis=0), axis=0)
    x, y = x - centre, y - centre
    return ops.maximum(ops.sum(x * x, axis=1)[:, None] + ops.sum(y * y, axis=1)[None, :]
                       - 2.0 * ops.matmul(x, ops.transpose(y)), 0.0)


def log_information_potential(x, y=None, sigma: float = 1.0):
    """``log V(X, Y) = logsumexp_ij(-|x_i - y_j|^2 / (4 sigma^2)) - log(n m)
    - (d/2) log(4 pi sigma^2)`` (``Y = X`` when ``y`` is None)."""
    sigma = _checked_sigma(sigma)
    x = ops.cast(x, keras.backend.floatx())
    y = x if y is None else ops.cast(y, x.dtype)
    z = -_pairwise_sq_dists(x, y) / (4.0 * sigma ** 2)
    return (ops.logsumexp(z) - ops.log(ops.cast(ops.size(z), z.dtype))
            - ops.shape(x)[1] / 2 * math.log(4.0 * math.pi * sigma ** 2))


def information_potential(x, y=None, sigma: float = 1.0):
    """Parzen estimate ``V(X, Y)`` of ``integral p_x p_y`` (``V(X, X)`` when ``y`` is None)."""
    return ops.exp(log_information_potential(x, y, sigma))


def renyi_quadratic_entropy(x, sigma: float = 1.0):
    """``H2(X) = -log V(X, X)``."""
    return -log_information_potential(x, sigma=sigma)


def quadratic_cross_entropy(x, y, sigma: float = 1.0):
    """``H2(X; Y) = -log V(X, Y)``."""
    return -log_information_potential(x, y, sigma)


def cauchy_schwarz_divergence(x, y, sigma: float = 1.0):
    """``D_CS = 2 H2(X; Y) - H2(X) - H2(Y) >= 0``: zero when the two Parzen densities coincide."""
    return (2.0 * quadratic_cross_entropy(x, y, sigma) - renyi_quadratic_entropy(x, sigma)
            - renyi_quadratic_entropy(y, sigma))


def gaussian_objectives(a, dim: int = 3, sigma: float = 1.0):
    """Closed forms (per unit weight) of both regulariser objectives for codes ``a N(0, I_d)``
    against an ``N(0, I_d)`` prior, in the large-sample limit.

    With ``c = 2 sigma^2``: ``V(aN, N) = (2 pi (a^2 + 1 + c))^(-d/2)`` and
    ``V(aN, aN) = (2 pi (2a^2 + c))^(-d/2)``, so

    * ``as_published = H2(X; Y) - H2(X) = (d/2) log((a^2 + 1 + c) / (2a^2 + c))``, falling
      monotonically in ``a`` (towards ``-(d/2) log 2``): it rewards codes wider than the prior;
    * ``cauchy_schwarz = 2 H2(X; Y) - H2(X) = (d/2) log(2 pi (a^2 + 1 + c)^2 / (2a^2 + c))``,
      smallest at ``a = 1``, where it equals ``H2(prior) = (d/2) log(2 pi (2 + c))``
      (subtract that for ``D_CS``).
    """
    a2, c = np.square(np.asarray(a, dtype="float64")), 2.0 * _checked_sigma(sigma) ** 2
    return {"cauchy_schwarz": dim / 2 * np.log(2 * np.pi * (a2 + 1 + c) ** 2 / (2 * a2 + c)),
            "as_published": dim / 2 * np.log((a2 + 1 + c) / (2 * a2 + c))}


class ITLRegularizer(keras.layers.Layer):
    """Identity on the codes; while training, adds ``weight * (k H2(codes;
    prior) - H2(codes))``.

    ``objective="cauchy_schwarz"`` (k = 2) is ``D_CS(codes, prior)`` up to the
    constant ``H2(prior)``, minimised when the codes match the prior.
    ``"as_published"`` (k = 1) is the seed project's stated objective (maximise
    code entropy, minimise cross-entropy to the prior); it is not a divergence
    and keeps rewarding codes spread wider than the prior (see
    :func:`gaussian_objectives`). ``prior_samples`` is a bank of prior samples;
    each step compares the batch's codes with ``n_prior`` of them drawn at
    random."""

    def __init__(self, prior_samples, weight: float = 0.1, sigma: float = 1.0,
                 n_prior: int = 256, seed: int = 0,
                 objective: str = "cauchy_schwarz", **kwargs):
        super().__init__(**kwargs)
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {sorted(OBJECTIVES)}, "
                             f"not {objective!r}")
        self.prior = np.asarray(prior_samples, dtype="float32")
        self.weight, self.sigma = weight, _checked_sigma(sigma)
        self.n_prior, self.objective = n_prior, objective
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, codes, training=None):
        if training:
            idx = keras.random.randint((self.n_prior,), 0, len(self.prior),
                                       seed=self.seed_generator)
            prior = ops.take(ops.convert_to_tensor(self.prior), idx, axis=0)
            cross = quadratic_cross_entropy(codes, prior, self.sigma)
            self.add_loss(self.weight * (
                OBJECTIVES[self.objective] * cross
                - renyi_quadratic_entropy(codes, self.sigma)))
        return codes

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "prior_samples": self.prior.tolist(),
                "weight": self.weight, "sigma": self.sigma,
                "n_prior": self.n_prior, "seed": self.seed,
                "objective": self.objective}


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
