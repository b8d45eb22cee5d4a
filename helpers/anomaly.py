"""Anomaly scores for chapter 8: reconstruction error, a complexity-corrected code length, distances
to the normal data (k nearest neighbours, PCA, Mahalanobis in code space) and thresholds.

Every score is "higher means more anomalous"; AUROCs live in :mod:`helpers.scores`. Everything but
:func:`detector_autoencoder` and :func:`reconstruct` is NumPy / scikit-learn and works on any
Keras backend's outputs.
"""

from __future__ import annotations

import io
import math
import zlib

import numpy as np

__all__ = ["detector_autoencoder", "reconstruct", "reconstruction_error",
           "compressed_bits", "gaussian_code_length", "complexity_corrected", "knn_distance",
           "pca_error", "Mahalanobis", "STATISTICS", "image_statistics", "ink_extent",
           "mnist_style", "typicality",
           "threshold_at_fpr", "detection_rate"]


# ------------------------------------------------------------------------- the model

def detector_autoencoder(code_size: int = 16, hidden: int = 128):
    """A small dense AE for a few hundred to a few thousand images: flatten -> ``hidden`` ReLU
    units -> linear code of ``code_size`` -> ``hidden`` ReLU units -> 784 sigmoid outputs,
    reshaped back. Takes ``(28, 28, 1)`` images in [0, 1], so reconstructions can be shown and
    compared pixel by pixel. Returns ``(encoder, decoder, autoencoder)``."""
    import keras
    from keras import layers

    x = keras.Input(shape=(28, 28, 1), name="image")
    h = layers.Dense(hidden, activation="relu", name="enc_hidden")(layers.Flatten(name="flat")(x))
    encoder = keras.Model(x, layers.Dense(code_size, name="code")(h), name="detector_encoder")

    z = keras.Input(shape=(code_size,), name="code_in")
    h = layers.Dense(hidden, activation="relu", name="dec_hidden")(z)
    h = layers.Dense(28 * 28, activation="sigmoid", name="dec_pixels")(h)
    decoder = keras.Model(z, layers.Reshape((28, 28, 1), name="reconstruction")(h),
                          name="detector_decoder")
    image = keras.Input(shape=(28, 28, 1), name="input")
    autoencoder = keras.Model(image, decoder(encoder(image)), name="detector_autoencoder")
    return encoder, decoder, autoencoder


def reconstruct(model, x, batch_size: int = 512) -> np.ndarray:
    """``model(x)`` as a NumPy array, computed in batches without progress output."""
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))


# ------------------------------------------------------------------------- scores

def reconstruction_error(x, x_hat) -> np.ndarray:
    """Per-image mean squared error between images ``x`` and their
    reconstructions ``x_hat``."""
    x = np.asarray(x, dtype=np.float64)
    x_hat = np.asarray(x_hat, dtype=np.float64)
    if x.shape != x_hat.shape:
        raise ValueError(f"shapes differ: {x.shape} vs {x_hat.shape}")
    return ((x - x_hat) ** 2).reshape(len(x), -1).mean(axis=1)


def _as_uint8(images) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = np.clip(np.rint(images.astype(np.float64) * 255), 0, 255).astype(np.uint8)
    return images.reshape(len(images), 28, 28)


def compressed_bits(images, codec: str = "png") -> np.ndarray:
    """Length in bits of each 28x28 image compressed losslessly by ``codec`` ("png": PNG at
    the highest compression level, "zlib": the raw bytes deflated): an upper bound on its
    information content that knows nothing about any dataset (Serra et al. 2020). Images are
    uint8 or floats in [0, 1] (rounded to 8 bits)."""
    images = _as_uint8(images)
    if codec == "zlib":
        return np.array([8 * len(zlib.compress(im.tobytes(), 9)) for im in images], float)
    if codec == "png":
        from PIL import Image

        out = []
        for im in images:
            buffer = io.BytesIO()
            Image.fromarray(im, mode="L").save(buffer, format="PNG", optimize=True)
            out.append(8 * buffer.tell())
        return np.array(out, dtype=float)
    raise ValueError(f"unknown codec {codec!r}: use 'png' or 'zlib'")


def gaussian_code_length(x, x_hat, sigma: float,
                         levels: int = 256) -> np.ndarray:
    """Bits to encode each 8-bit image ``x`` given its reconstruction ``x_hat``,
    under a Gaussian of standard deviation ``sigma`` around every reconstructed
    pixel. Per pixel, ``-log2(density * bin width)`` is
    ``(x - x_hat)^2 / (2 sigma^2 ln 2) + log2(sqrt(2 pi) sigma / bin width)``
    with bin width ``1 / (levels - 1)``; summed over the pixels."""
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    x = np.asarray(x, dtype=np.float64)
    x_hat = np.asarray(x_hat, dtype=np.float64)
    sq = ((x - x_hat) ** 2).reshape(len(x), -1)
    per_pixel = math.log2(math.sqrt(2 * math.pi) * sigma * (levels - 1))
    squared_bits = sq.sum(axis=1) / (2 * sigma ** 2 * math.log(2))
    return squared_bits + sq.shape[1] * per_pixel


def complexity_corrected(model_bits, reference_bits) -> np.ndarray:
    """Serra et al.'s score: the model's code length minus a generic compressor's, in bits.
    Positive when the model needs more bits than PNG does: the image is not of its kind."""
    return np.asarray(model_bits, dtype=float) - np.asarray(reference_bits, dtype=float)


def _flat(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x.reshape(len(x), -1)


def knn_distance(reference, x, k: int = 1) -> np.ndarray:
    """Mean Euclidean distance from each row of ``x`` to its ``k`` nearest rows of ``reference``
    (the normal training data). Images are flattened."""
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=k).fit(_flat(reference))
    distances, _ = index.kneighbors(_flat(x))
    return distances.mean(axis=1)


def pca_error(reference, x, n_components: int | float = 0.9) -> np.ndarray:
    """Per-image MSE of ``x`` after projecting on the principal components of ``reference``
    (an int: that many components; a float in (0, 1): enough to explain that fraction of the
    variance)."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=n_components, svd_solver="full").fit(_flat(reference))
    flat = _flat(x)
    return reconstruction_error(flat, pca.inverse_transform(pca.transform(flat)))


class Mahalanobis:
    """Distance to a Gaussian fitted to the normal rows: every column
    standardised on them, then ``sqrt((z - mu)^T S^-1 (z - mu))`` with a
    Ledoit-Wolf shrunk covariance ``S`` (well conditioned even for few rows).
    Standardising first matters: the shrinkage pulls ``S`` toward a multiple
    of the identity, which treats the columns alike only on one scale."""

    def __init__(self, codes):
        from sklearn.covariance import LedoitWolf
        from sklearn.preprocessing import StandardScaler

        codes = _flat(codes).astype(np.float64)
        self.scaler = StandardScaler().fit(codes)
        self.model = LedoitWolf().fit(self.scaler.transform(codes))

    def __call__(self, codes) -> np.ndarray:
        z = self.scaler.transform(_flat(codes).astype(np.float64))
        return np.sqrt(self.model.mahalanobis(z))


STATISTICS = ("log reconstruction MSE", "log PNG bits", "mean intensity",
              "share of pixels > 0.5", "share of pixels < 0.02")


def image_statistics(images, errors, bits) -> np.ndarray:
    """One row per image: the :data:`STATISTICS` (log of its reconstruction
    ``errors``, log of its compressed length ``bits``, its mean intensity, its
    share of ink and of background)."""
    flat = _flat(images)
    return np.c_[np.log(np.asarray(errors, dtype=float)),
                 np.log(np.asarray(bits, dtype=float)),
                 flat.mean(axis=1),
                 (flat > 0.5).mean(axis=1),
                 (flat < 0.02).mean(axis=1)]


def ink_extent(images, background: float = 0.02) -> np.ndarray:
    """One row per image: the height and the width, in pixels, of the smallest
    box that holds every pixel not darker than ``background`` (0 for a blank
    image): how large the drawing is and how it fills the frame."""
    ink = _flat(images).reshape(len(images), 28, 28) >= background

    def span(lines):  # (images, 28): whether each row (or column) holds ink
        first = lines.argmax(axis=1)
        last = lines.shape[1] - 1 - lines[:, ::-1].argmax(axis=1)
        return np.where(lines.any(axis=1), last - first + 1, 0)

    return np.c_[span(ink.any(axis=2)), span(ink.any(axis=1))].astype(float)


def mnist_style(images, box: int = 20, background: float = 0.02) -> np.ndarray:
    """Each 28x28 image pushed through MNIST's own pipeline (LeCun et al.): the
    ink's bounding box (pixels of ``background`` or brighter) scaled, with
    anti-aliasing and its aspect ratio kept, so that its longer side is ``box``
    pixels, then placed in a 28x28 frame with its centre of mass at the centre."""
    from scipy.ndimage import center_of_mass, shift
    from skimage.transform import resize

    square = _flat(images).reshape(len(images), 28, 28)
    out = np.zeros_like(square)
    for i, image in enumerate(square):
        ink = image >= background
        rows = np.flatnonzero(ink.any(axis=1))
        cols = np.flatnonzero(ink.any(axis=0))
        if not len(rows):
            continue  # a blank image stays blank
        ink = image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        scale = box / max(ink.shape)
        size = tuple(max(1, round(side * scale)) for side in ink.shape)
        small = np.clip(resize(ink, size, anti_aliasing=True), 0, 1)
        top, left = (28 - size[0]) // 2, (28 - size[1]) // 2
        out[i, top:top + size[0], left:left + size[1]] = small
        dy, dx = np.array([13.5, 13.5]) - center_of_mass(out[i])
        out[i] = np.clip(shift(out[i], (dy, dx), order=1), 0, 1)
    return out.reshape(np.shape(images))


def typicality(normal_statistics, statistics) -> np.ndarray:
    """How atypical each row of ``statistics`` is among ``normal_statistics``:
    the Mahalanobis distance to a Gaussian fitted to them. Two-sided: an image
    too simple (error or length too small) is as atypical as one too
    complex."""
    return Mahalanobis(normal_statistics)(statistics)


# ------------------------------------------------------------------------- decisions

def threshold_at_fpr(normal_scores, fpr: float = 0.05) -> float:
    """The score above which a fraction ``fpr`` of ``normal_scores`` lies (their
    ``1 - fpr`` quantile): flag an image when its score is above it."""
    if not 0 < fpr < 1:
        raise ValueError(f"fpr must be in (0, 1), got {fpr}")
    scores = np.ravel(normal_scores)
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"{np.sum(~np.isfinite(scores))} of {scores.size} normal scores are "
                         "not finite (NaN or inf): fix the score before setting a threshold")
    return float(np.quantile(scores, 1 - fpr))


def detection_rate(scores, threshold: float) -> float:
    """Fraction of ``scores`` above ``threshold`` (the TPR on anomalies, the FPR on normals)."""
    return float(np.mean(np.ravel(scores) > threshold))
