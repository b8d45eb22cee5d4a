"""Sparse codes and sparse autoencoders (SAEs), and the metrics of the SAE
literature.

Part 1 builds an overcomplete dense autoencoder whose code is left free, L1
penalised, or k-sparse (Makhzani & Frey 2013). Part 2 builds SAEs on a
network's hidden activations: ReLU + L1 (Bricken et al. 2023; Cunningham et
al. 2023) or TopK (Gao et al. 2024), with unit-norm dictionary vectors.

Models use ``keras`` and ``keras.ops`` only (any backend); metrics take NumPy
arrays. Builders do not compile: train with ``helpers.training.fit`` on MSE.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

FLAT_SIZE = 28 * 28


@keras.saving.register_keras_serializable(package="aebook")
class TopK(layers.Layer):
    """Keep the ``k`` largest values of each row; set the others to 0.

    Of values tied with the k-th largest, the lowest indices are kept, so
    exactly ``k`` survive on every backend. The gradient reaches the kept
    units only.
    """

    def __init__(self, k, **kwargs):
        super().__init__(**kwargs)
        if k < 1:
            raise ValueError(f"TopK: k must be at least 1, not {k}")
        self.k = int(k)

    def call(self, x):
        kth = ops.top_k(x, self.k)[0][..., -1:]
        above, tied = x > kth, x == kth
        room = self.k - ops.sum(ops.cast(above, "int32"), -1, keepdims=True)
        first_tied = ops.cumsum(ops.cast(tied, "int32"), axis=-1) <= room
        return ops.where(above | (tied & first_tied), x, ops.zeros_like(x))

    def get_config(self):
        return {**super().get_config(), "k": self.k}


@keras.saving.register_keras_serializable(package="aebook")
class L1Activity(layers.Layer):
    """Identity that adds ``weight`` x mean over the batch of ``sum |x|``.

    Not ``activity_regularizer=L1(weight)``: recent Keras (3.15 here)
    divides that by the batch size, earlier Keras 3 releases do not
    (keras-team/keras#22018), so its strength depends on the version.
    """

    def __init__(self, weight, **kwargs):
        super().__init__(**kwargs)
        self.weight = float(weight)

    def call(self, x):
        self.add_loss(self.weight * ops.mean(ops.sum(ops.abs(x), axis=-1)))
        return x

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}


@keras.saving.register_keras_serializable(package="aebook")
class DecoderBias(layers.Layer):
    """An SAE's decoder bias ``b_d``: added to the decoder's output, and
    subtracted from the encoder's input (``subtract=True``)."""

    def build(self, input_shape):
        self.bias = self.add_weight(shape=(input_shape[-1],),
                                    initializer="zeros", name="bias")

    def call(self, x, subtract=False):
        return x - self.bias if subtract else x + self.bias


def unit_norm_dictionary():
    """Constraint for a decoder ``Dense`` kernel of shape (latents, features):
    after every optimizer step, each latent's dictionary vector (a row of
    the kernel, a column of the usual W_dec) has unit L2 norm."""
    return keras.constraints.UnitNorm(axis=1)


def _sparsify(code, sparsity):
    """``code`` through ``sparsity``: None, ("l1", weight) or ("topk", k)."""
    if sparsity is None:
        return code
    kind, value = sparsity
    if kind == "l1":
        return L1Activity(value, name="l1")(code)
    if kind == "topk":
        return TopK(value, name="topk")(code)
    raise ValueError(f"unknown sparsity {sparsity!r}: None, ('l1', weight) "
                     "or ('topk', k)")


def overcomplete_autoencoder(code=1024, sparsity=None, mean=None):
    """784 -> ``code`` ReLU units -> 784 sigmoid, with ``sparsity`` None,
    ``("l1", weight)`` (L1 on the code, see :class:`L1Activity`) or
    ``("topk", k)`` (keep the k largest, Makhzani & Frey 2013).

    ``mean`` (784 pixels, e.g. the training images' mean) is subtracted
    from the input first (layer ``"centre"``, fixed): on raw pixels, all
    positive, a unit's input is dominated by the mean image, so units whose
    weights point away from it never fire, and a sparse code loses many of
    its units at the start of training. Returns ``(encoder, autoencoder)``;
    the encoder outputs the sparse code.
    """
    x = keras.Input(shape=(FLAT_SIZE,), name="pixels")
    h = x
    if mean is not None:
        mean = np.asarray(mean, "float32").reshape(FLAT_SIZE)
        h = layers.Normalization(mean=mean, variance=np.ones_like(mean),
                                 name="centre")(h)
    h = layers.Dense(code, activation="relu", name="code")(h)
    h = _sparsify(h, sparsity)
    out = layers.Dense(FLAT_SIZE, activation="sigmoid",
                       name="reconstruction")(h)
    name = "dense" if sparsity is None else sparsity[0]
    return (keras.Model(x, h, name=f"overcomplete_{name}_encoder"),
            keras.Model(x, out, name=f"overcomplete_{name}_autoencoder"))


def sparse_autoencoder(n_inputs, n_latents, kind="relu_l1", l1=1e-3, k=32,
                       bias_init=None):
    """An SAE on ``n_inputs`` activations with ``n_latents`` latents.

    ``f = act(W_e (x - b_d) + b_e)``, ``x_hat = W_d f + b_d``, where ``b_d``
    is one learned bias (layer ``"decoder_bias"``; it starts at
    ``bias_init``, e.g. the mean activation, or zeros), ``act`` is ReLU
    then ``l1`` x mean ``|f|_1`` in the loss (``kind="relu_l1"``) or ReLU
    then :class:`TopK` (``kind="topk"``), and the dictionary (``W_d``, layer
    ``"dictionary"``) has unit-norm vectors. ``W_e`` starts as the
    transpose of ``W_d`` (Gao et al. 2024), which keeps far more latents
    alive. Returns ``(encoder, decoder, sae)``, sharing their layers
    (``sae`` is one flat model, so that saving it keeps ``b_d`` shared);
    train ``sae`` on MSE.
    """
    if kind not in ("relu_l1", "topk"):
        raise ValueError(f"unknown SAE kind {kind!r}: 'relu_l1' or 'topk'")
    bias = DecoderBias(name="decoder_bias")
    dictionary = layers.Dense(n_inputs, use_bias=False, name="dictionary",
                              kernel_constraint=unit_norm_dictionary())
    encode = layers.Dense(n_latents, activation="relu", name="latents")
    x = keras.Input(shape=(n_inputs,), name="activations")
    f = _sparsify(encode(bias(x, subtract=True)),
                  ("l1", l1) if kind == "relu_l1" else ("topk", k))
    sae = keras.Model(x, bias(dictionary(f)), name=f"{kind}_sae")

    z = keras.Input(shape=(n_latents,), name="code")
    decoder = keras.Model(z, bias(dictionary(z)), name=f"{kind}_sae_decoder")
    w = ops.convert_to_numpy(dictionary.kernel)
    w = w / np.linalg.norm(w, axis=1, keepdims=True)  # unit norm at the start
    dictionary.kernel.assign(w)
    encode.kernel.assign(w.T)
    if bias_init is not None:
        bias.bias.assign(np.asarray(bias_init, "float32").reshape(n_inputs))
    return keras.Model(x, f, name=f"{kind}_sae_encoder"), decoder, sae


def split(classifier, layer):
    """``(body, head)``: ``classifier`` up to ``layer`` (a name or an index)
    and the layers after it, for a classifier that is a chain of layers.

    ``head(body(x))`` equals ``classifier(x)``; ``head`` applied to patched
    activations (an SAE's reconstruction) gives the classifier's output.
    """
    if isinstance(layer, str):
        layer = classifier.get_layer(name=layer)
    else:
        layer = classifier.get_layer(index=layer)
    body = keras.Model(classifier.input, layer.output,
                       name=f"{classifier.name}_body")
    h = x = keras.Input(shape=layer.output.shape[1:],
                        name=f"{layer.name}_activations")
    for after in classifier.layers[classifier.layers.index(layer) + 1:]:
        h = after(h)
    return body, keras.Model(x, h, name=f"{classifier.name}_head")


def steer(activations, direction, strengths):
    """``activations + s * direction`` for each ``s`` in ``strengths``:
    an array of shape ``(len(strengths), *activations.shape)``."""
    a = np.asarray(activations)
    s = np.asarray(strengths, dtype=a.dtype).reshape(-1, *(1,) * a.ndim)
    return a + s * np.asarray(direction, dtype=a.dtype)


def l0(latents) -> float:
    """Mean number of non-zero latents per example (row)."""
    return float(np.count_nonzero(latents, axis=1).mean())


def dead_latents(latents) -> np.ndarray:
    """Indices of the latents (columns) that are 0 on every example given."""
    return np.flatnonzero(~np.any(np.asarray(latents) != 0, axis=0))


def fraction_variance_unexplained(x, x_hat) -> float:
    """``sum |x - x_hat|^2 / sum |x - mean(x)|^2``, the mean being that of
    each feature over the examples given: 0 for a perfect reconstruction,
    1 for predicting that mean everywhere."""
    x, x_hat = np.asarray(x, np.float64), np.asarray(x_hat, np.float64)
    return float(np.sum((x - x_hat) ** 2) / np.sum((x - x.mean(axis=0)) ** 2))


def loss_recovered(ce_clean, ce_patched, ce_ablated) -> float:
    """Share of the loss increase from ablating the layer that the SAE wins
    back when it replaces the layer: 1 as good as the clean model, 0 no
    better than the ablation (zero or mean: the caller's choice)."""
    return float((ce_ablated - ce_patched) / (ce_ablated - ce_clean))


def top_activating(latents, j, n) -> np.ndarray:
    """Indices of the ``n`` examples with the largest value of latent ``j``,
    largest first (ties: lower index first)."""
    return np.argsort(-np.asarray(latents)[:, j], kind="stable")[:n]


def class_purity(activations, labels, n=100) -> np.ndarray:
    """Per unit (column): the largest share of one class among its ``n``
    top-activating examples that are active (value > 0); NaN for a unit
    never active. Same definition for SAE latents and raw ReLU neurons."""
    a, labels = np.asarray(activations), np.asarray(labels)
    order = np.argsort(-a, axis=0, kind="stable")[:n]
    active = np.take_along_axis(a, order, axis=0) > 0
    counts = np.stack([(active & (labels[order] == c)).sum(axis=0)
                       for c in np.unique(labels)])
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts.max(axis=0) / active.sum(axis=0)
