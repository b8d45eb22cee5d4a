"""Train every helper model for a few steps on the backend named by $KERAS_BACKEND.

Run by tests/test_backends.py in a subprocess per backend (a Keras backend is fixed at import).
Prints one line per model and exits non-zero if a shape is wrong, a loss is not finite, or a
loss does not decrease.
"""

import math
import sys

import keras
import numpy as np

from helpers import anomaly, models, sparse, vae


def blobs(n, seed=0):
    """Smooth, learnable images: one Gaussian blob each, in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    cy, cx = rng.uniform(8, 20, (2, n, 1, 1))
    return np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 20).astype("float32")[..., None]


def main():
    keras.utils.set_random_seed(0)
    images = blobs(128)
    flat = images.reshape(len(images), -1)
    cases = {
        "dense_autoencoder": (models.dense_autoencoder, flat, (64,)),
        "single_layer_autoencoder": (models.single_layer_autoencoder, flat, (32,)),
        "dense_autoencoder_improved": (models.dense_autoencoder_improved, flat, (64,)),
        "conv_autoencoder": (models.conv_autoencoder, images, (7, 7, 128)),
        "conv_autoencoder_improved": (models.conv_autoencoder_improved, images, (7, 7, 32)),
        "compact_conv_autoencoder": (models.compact_conv_autoencoder, images, (6,)),
        "deep_dense_autoencoder": (models.deep_dense_autoencoder, flat, (10,)),
        "detector_autoencoder": (anomaly.detector_autoencoder, images, (16,)),
    }
    failures = []
    for name, (build, x, code_shape) in cases.items():
        encoder, decoder, autoencoder = build()
        autoencoder.compile(keras.optimizers.Adam(2e-3), "mse")
        losses = autoencoder.fit(x, x, epochs=6, batch_size=16, verbose=0).history["loss"]
        code = keras.ops.convert_to_numpy(encoder(x[:4]))
        out = keras.ops.convert_to_numpy(autoencoder(x[:4]))
        ok = (code.shape[1:] == code_shape and out.shape == x[:4].shape
              and all(math.isfinite(v) for v in losses) and losses[-1] < losses[0])
        print(f"{keras.backend.backend():>10} {name:<28} loss {losses[0]:.4f} -> {losses[-1]:.4f} "
              f"{'ok' if ok else 'FAILED'}", flush=True)
        if not ok:
            failures.append(name)
    labels = np.arange(len(images)) % 10
    for name in ("cnn_classifier_seed", "cnn_classifier_improved"):
        classifier = getattr(models, name)()
        classifier.compile("adam", "sparse_categorical_crossentropy")
        losses = classifier.fit(images, labels, epochs=3, batch_size=16, verbose=0).history["loss"]
        probs = keras.ops.convert_to_numpy(classifier(images[:4]))
        ok = (probs.shape == (4, 10) and np.allclose(probs.sum(axis=1), 1, atol=1e-4)
              and all(map(math.isfinite, losses)))
        print(f"{keras.backend.backend():>10} {name:<28} loss {losses[0]:.4f} -> {losses[-1]:.4f} "
              f"{'ok' if ok else 'FAILED'}", flush=True)
        if not ok:
            failures.append(name)
    keras.utils.set_random_seed(0)
    model = vae.VAE(vae.dense_encoder(8, (64,)), vae.dense_decoder(8, (64,)), seed=0)
    model.compile(keras.optimizers.Adam(2e-3))
    h = model.fit(flat, flat, epochs=6, batch_size=16, verbose=0).history
    losses = h["loss"]
    parts = np.array(h["reconstruction"]) + np.array(h["kl"])
    samples = model.sample(4, seed=0)
    ok = (samples.shape == (4, 784) and all(map(math.isfinite, losses))
          and losses[-1] < losses[0] and np.allclose(losses, parts, rtol=1e-5))
    print(f"{keras.backend.backend():>10} {'vae':<28} loss {losses[0]:.4f} -> {losses[-1]:.4f} "
          f"{'ok' if ok else 'FAILED'}", flush=True)
    if not ok:
        failures.append("vae")
    if not sparse_ok(flat):
        failures.append("topk_sae")
    return 1 if failures else 0


def sparse_ok(flat):
    """TopK keeps exactly k per row (ties included) and a TopK SAE trains,
    its dictionary vectors staying unit norm."""
    ties = np.random.default_rng(0).integers(1, 4, (64, 32)).astype("float32")
    kept = np.count_nonzero(keras.ops.convert_to_numpy(
        sparse.TopK(5)(ties)), axis=1)
    keras.utils.set_random_seed(0)
    encoder, decoder, sae = sparse.sparse_autoencoder(784, 256, "topk", k=16)
    sae.compile(keras.optimizers.Adam(2e-3), "mse")
    losses = sae.fit(flat, flat, epochs=6, batch_size=16,
                     verbose=0).history["loss"]
    kernel = keras.ops.convert_to_numpy(sae.get_layer("dictionary").kernel)
    l0 = sparse.l0(keras.ops.convert_to_numpy(encoder(flat)))
    ok = ((kept == 5).all() and l0 <= 16 and losses[-1] < losses[0]
          and np.allclose(np.linalg.norm(kernel, axis=1), 1, atol=1e-5))
    print(f"{keras.backend.backend():>10} {'topk_sae':<28} loss "
          f"{losses[0]:.4f} -> {losses[-1]:.4f} "
          f"{'ok' if ok else 'FAILED'}", flush=True)
    return ok


if __name__ == "__main__":
    sys.exit(main())
