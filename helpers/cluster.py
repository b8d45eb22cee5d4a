"""The command line ``python -m helpers.cluster``: autoencoder codes -> k-means -> scores against
the true labels (which training never sees). The scores themselves live in :mod:`helpers.scores`
(``clustering_scores`` gives ACC, majority accuracy, NMI and ARI together); ``contingency``,
``hungarian_accuracy`` and ``majority_accuracy`` are re-exported here for the chapters that use
them under these names."""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from helpers.files import atomic_path, atomic_write
from helpers.scores import (bootstrap_interval, clustering_scores, contingency,
                            hungarian_accuracy, majority_accuracy)

__all__ = ["contingency", "hungarian_accuracy", "majority_accuracy", "nearest_neighbours",
           "umap_embedding", "n2d_clusters", "projector_export", "run", "main"]

BATCH_SIZE = 128
DEFAULT_STEPS = 2000
PLATEAU = 0.95  # a training MSE above this share of the mean image's has barely learnt
RESAMPLES = 2000  # for the bootstrap interval of ACC
WARMUP, TIMED = 2, 10  # untimed first steps (tracing), then steps timed for the time estimate
OUTPUTS = ("metrics.json", "codes.npy", "projector")  # what a run writes in LOG_DIR/TAG

_USAGE = """Unsupervised classifier: an autoencoder learns codes, k-means clusters them, and each
cluster is scored against the true labels (which training never sees). Rebuilds the interface of
the TensorFlow seed's mnist_autoEncoder script."""

_SEED_DIFFERENCES = f"""differences from the TensorFlow seed:
  --steps         training steps (batches of {BATCH_SIZE} images), as in the seed; --epochs N
                  trains N passes over the training images instead
  optimizer       Adam (the seed used Adagrad, which leaves the mean-image plateau far more
                  slowly); the loss is the seed's MSE
  dense model     784 -> code -> 784 with a ReLU code layer (the seed's README names no
                  activation); with a sigmoid code (--code-activation sigmoid) Adam stays
                  about 2,000 steps on the plateau of redrawing the mean image
  --convolution   the book's compact convolutional autoencoder, not the seed's convAutoEncoder
  scores          Hungarian ACC with a bootstrap interval (clusters matched to labels once,
                  {RESAMPLES:,} resamples of the images), NMI and ARI besides the seed's
                  majority accuracy; scikit-learn's k-means (10 starts), fitted on the training
                  codes and applied to the test images
  data            --dataset and --images/--labels are new; --tb-embedding writes the Embedding
                  Projector's files (TSV and sprite) rather than a TensorFlow checkpoint
  spellings       the seed's flag names are accepted too: --data_dir, --log_dir,
                  --learning_rate, --encoding_size, --num_clusters, --tb_embedding=True"""


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {kind.__name__}") from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"must be positive and finite, got {text}")
        return value
    return parse


def _boolean(text):
    words = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    try:
        return words[text.lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"{text!r} is not true or false") from None


def _switch(group, *names, help):
    """A flag that may also be written ``--flag=true`` or ``--flag=false``, as the seed's are."""
    group.add_argument(*names, nargs="?", const=True, default=False, type=_boolean,
                       metavar="BOOL", help=help)


def _tag(text):
    if not text or text == "." or ".." in text or "/" in text or "\\" in text:
        raise argparse.ArgumentTypeError(f"{text!r} must be a plain folder name (no path "
                                         "separator, no '..')")
    return text


def _parser():
    from helpers.data import DATASETS

    p = argparse.ArgumentParser(prog="python -m helpers.cluster", description=_USAGE,
                                epilog=_SEED_DIFFERENCES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_argument_group("data (a dataset name, or your own MNIST-format IDX files)")
    src.add_argument("--dataset", choices=sorted(DATASETS), default="mnist",
                     help="which dataset to load with helpers.data (default: mnist)")
    src.add_argument("--data-dir", "--data_dir", metavar="DIR",
                     help="folder holding the dataset files (<name>/<file> or the files "
                          "themselves); default: $AEBOOK_DATA, the cache, or a download")
    src.add_argument("--images", metavar="FILE",
                     help="an IDX file of uint8 images (n x 28 x 28, gz or raw) to use instead "
                          "of --dataset; the same images train and are clustered")
    src.add_argument("--labels", metavar="FILE",
                     help="the IDX file of integer labels that goes with --images")
    out = p.add_argument_group("outputs")
    out.add_argument("--log-dir", "--log_dir", metavar="DIR", default="runs",
                     help="folder for the outputs (default: runs)")
    out.add_argument("--tag", type=_tag, default="default",
                     help="name of this run: outputs go to LOG_DIR/TAG (default: default)")
    out.add_argument("--overwrite", action="store_true",
                     help="replace the outputs of an earlier run with the same LOG_DIR/TAG "
                          "(without it, such a run is refused)")
    out.add_argument("--quiet", action="store_true",
                     help="print no training log (the time left and the loss of each tenth of "
                          "training); the data, the training summary and the scores still "
                          "print")
    _switch(out, "--tb-embedding", "--tb_embedding",
            help="also write a TensorBoard Embedding Projector export (vectors, metadata, "
                 "sprite)")
    model = p.add_argument_group("model and training")
    _switch(model, "--convolution",
            help="use the compact convolutional autoencoder instead of one dense layer")
    model.add_argument("--code-activation", choices=("relu", "sigmoid"), default="relu",
                       help="activation of the dense model's code layer (default: relu; the "
                            "seed's README names none)")
    model.add_argument("--encoding-size", "--encoding_size", type=_positive(int), default=32,
                       metavar="N",
                       help="numbers in each code (default: 32)")
    model.add_argument("--learning-rate", "--learning_rate", type=_positive(float),
                       default=1e-3, metavar="RATE",
                       help="Adam's learning rate (default: 0.001)")
    length = model.add_mutually_exclusive_group()
    length.add_argument("--steps", type=_positive(int), metavar="N",
                        help=f"training steps of {BATCH_SIZE} images each (default: "
                             f"{DEFAULT_STEPS})")
    length.add_argument("--epochs", type=_positive(int), metavar="N",
                        help="train this many passes over the training images instead of --steps "
                             "(capped by the quick profile, as every chapter's epochs are)")
    model.add_argument("--num-clusters", "--num_clusters", type=_positive(int), default=10,
                       metavar="K",
                       help="k of k-means (default: 10)")
    return p


def _output_problem(args) -> str | None:
    """Why LOG_DIR/TAG cannot be written (checked before training), or None."""
    folder = Path(args.log_dir) / args.tag
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"--log-dir {args.log_dir}: {existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"--log-dir {args.log_dir}: no permission to write in {existing}"
    try:
        with tempfile.TemporaryFile(dir=existing) as probe:
            probe.write(b"probe")
    except OSError as e:
        return f"--log-dir {args.log_dir}: cannot write in {existing} ({e.strerror or e})"
    if folder.is_dir() and any(folder.iterdir()) and not args.overwrite:
        return (f"{folder} already holds a run: give --overwrite to replace its outputs, or "
                "another --tag")
    return None


def _flag_problem(args) -> str | None:
    """What is wrong with the flags taken together (argparse checks each alone), or None."""
    if bool(args.images) != bool(args.labels):
        return "--images and --labels go together: give both files"
    return None


def _read_own(flag: str, path: str):
    """An IDX file the user gave, with errors that name the flag."""
    from helpers.data import DatasetError, read_idx

    try:
        return read_idx(path, own=True)  # errors say to write the file again, not download it
    except DatasetError as e:
        raise DatasetError(f"{flag} {e}") from None


def _load(args):
    """(train images, test images, test labels, description), images float32 (n, 28, 28, 1).

    Reads and checks every file with NumPy alone, so that a bad file is refused before
    TensorFlow loads."""
    from helpers.data import DatasetError, load_dataset, to_float

    if args.images:
        images, labels = _read_own("--images", args.images), _read_own("--labels", args.labels)
        if images.dtype != np.uint8:
            raise DatasetError(f"--images {args.images}: holds {images.dtype} values; expected "
                               "uint8 pixels, 0 to 255 (IDX type 0x08)")
        if images.ndim != 3 or images.shape[1:] != (28, 28) or not len(images):
            raise DatasetError(f"--images {args.images}: holds an array of shape "
                               f"{images.shape}; expected n x 28 x 28 images, n > 0")
        if not np.issubdtype(labels.dtype, np.integer):
            raise DatasetError(f"--labels {args.labels}: holds {labels.dtype} values; expected "
                               "whole-number labels (an integer IDX type)")
        if labels.ndim != 1 or len(labels) != len(images):
            raise DatasetError(f"--labels {args.labels}: holds {labels.shape} labels for "
                               f"{len(images)} images in {args.images}; expected one label "
                               "per image")
        x = to_float(images)[..., None]
        return x, x, labels.astype(np.int64), (
            f"{len(x):,} images from {args.images}; the same images train the autoencoder and "
            "are clustered and scored (no held-out images)")
    ds = load_dataset(args.dataset, data_dir=args.data_dir)
    return to_float(ds.x_train)[..., None], to_float(ds.x_test)[..., None], ds.y_test, ds.source


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def _progress(steps: int, batch_size: int):
    """A callback printing the mean loss of each tenth of training and its speed, and
    after the first few steps an estimate of the training time left."""
    import keras

    every, last = max(1, steps // 10), {"step": 0, "sum": 0.0, "t": time.perf_counter()}
    timed = {}

    def on_train_batch_end(batch, logs):
        step, now = batch + 1, time.perf_counter()
        if step == WARMUP:
            timed["start"] = now
        elif step == WARMUP + TIMED and step < steps:
            left = (now - timed["start"]) / TIMED * (steps - step)
            print(f"step {step:>7,}/{steps:,}  about {_duration(left)} of training left",
                  flush=True)
        if step % every and step != steps:
            return
        total = float(logs["loss"]) * step  # logs: mean so far
        loss = (total - last["sum"]) / (step - last["step"])
        rate = (step - last["step"]) * batch_size / (now - last["t"])
        print(f"step {step:>7,}/{steps:,}  loss {loss:.5f}  {rate:,.0f} img/s", flush=True)
        last.update(step=step, sum=total, t=now)

    return keras.callbacks.LambdaCallback(on_train_batch_end=on_train_batch_end)


def train(autoencoder, x, steps: int, learning_rate: float, batch_size: int = BATCH_SIZE,
          seed: int = 0, log: bool = True) -> float:
    """Train ``autoencoder`` on ``x -> x`` for ``steps`` batches (MSE, Adam); returns seconds.
    ``log=False`` prints nothing while it trains.

    Each pass over ``x`` takes the images in a new random order; a pass ends before a batch
    would come out short. A loss that is not finite stops training with a ValueError.
    """
    import keras

    batch_size = min(batch_size, len(x))

    def batches():
        rng = np.random.default_rng(seed)
        while True:
            order = rng.permutation(len(x))
            for start in range(0, len(x) - batch_size + 1, batch_size):
                batch = x[order[start:start + batch_size]]
                yield batch, batch

    autoencoder.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    start = time.perf_counter()
    callbacks = [keras.callbacks.TerminateOnNaN()]
    if log:
        callbacks.insert(0, _progress(steps, batch_size))
    history = autoencoder.fit(batches(), steps_per_epoch=steps, epochs=1, shuffle=False,
                              verbose=0, callbacks=callbacks)
    loss = history.history["loss"][-1]
    if not math.isfinite(loss):
        raise ValueError(f"training stopped at a loss of {loss}, not a finite number: lower "
                         "--learning-rate, or check the images")
    return time.perf_counter() - start


def nearest_neighbours(codes, neighbours: int = 20):
    """The exact ``neighbours`` nearest rows of ``codes`` to each row (itself first), as
    ``(indices, distances)``: UMAP's neighbour graph, computed once for several UMAP seeds."""
    from sklearn.neighbors import NearestNeighbors

    # exact, so running on every core cannot change the result
    index = NearestNeighbors(n_neighbors=neighbours, n_jobs=-1).fit(codes)
    distances, indices = index.kneighbors(codes)
    return indices, distances


def umap_embedding(codes, dims: int, seed: int = 0, neighbours: int = 20,
                   min_dist: float = 0.0, epochs: int | None = None, knn=None):
    """UMAP of ``codes`` to ``dims`` dimensions, on one thread so that ``seed`` fixes the result.

    ``epochs=None`` keeps UMAP's own default (500 epochs up to 10,000 points, 200 above).
    ``knn``: the neighbour graph from :func:`nearest_neighbours` (exact); without it UMAP finds
    approximate neighbours itself, anew for every seed. The notice tqdm prints at import when
    ipywidgets is missing is silenced, and so is UMAP's note that a precomputed graph cannot
    embed new points (nothing here does); nothing else is.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import umap

    if knn is not None and np.shape(knn[0]) != (len(codes), neighbours):
        raise ValueError(f"umap_embedding: knn holds {np.shape(knn[0])} neighbour indices; "
                         f"expected {(len(codes), neighbours)}: build it with "
                         f"nearest_neighbours(codes, {neighbours})")
    reducer = umap.UMAP(n_components=dims, n_neighbors=neighbours, min_dist=min_dist,
                        random_state=seed, n_jobs=1, n_epochs=epochs,
                        precomputed_knn=(None, None, None) if knn is None else (*knn, None))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
        return reducer.fit_transform(codes)


def n2d_clusters(codes, n_clusters: int = 10, seed: int = 0, starts: int = 10,
                 **umap_args):
    """N2D's clustering (McConville et al.): UMAP of the codes to ``n_clusters``
    dimensions, then a full-covariance Gaussian mixture. N2D's code fits the
    mixture from one start; this book runs ``starts`` starts and keeps the one
    with the highest likelihood (a choice that needs no labels).

    Returns ``(clusters, embedding, mixture)``; ``umap_args`` go to
    :func:`umap_embedding`."""
    from sklearn.mixture import GaussianMixture

    embedding = umap_embedding(codes, n_clusters, seed=seed, **umap_args)
    mixture = GaussianMixture(n_clusters, covariance_type="full", n_init=starts,
                              random_state=seed).fit(embedding)
    return mixture.predict(embedding), embedding, mixture


def print_top_labels(table, class_names, k: int = 3) -> None:
    """Print the ``k`` most frequent labels of each cluster (the rows of a contingency table,
    :func:`helpers.scores.contingency`) with their shares of the cluster."""
    width = len(f"{int(table.sum(axis=1).max()):,}")
    for c, row in enumerate(table):
        top = [i for i in np.argsort(row)[::-1][:k] if row[i]]
        mix = ", ".join(f"{class_names[i]} {row[i] / row.sum():.0%}" for i in top)
        print(f"  cluster {c:>2} ({row.sum():>{width},} images): {mix}")


def projector_export(folder, codes, labels, clusters, images):
    """Files for the TensorBoard Embedding Projector (or projector.tensorflow.org)."""
    import matplotlib.image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "vectors.tsv") as tmp:
        np.savetxt(tmp, codes, delimiter="\t", fmt="%.5f")
    atomic_write(folder / "metadata.tsv",
                 "label\tcluster\n" + "".join(f"{l}\t{c}\n" for l, c in zip(labels, clusters)))
    side = int(np.ceil(np.sqrt(len(images))))
    sprite = np.ones((side * side, 28, 28), np.float32)
    sprite[: len(images)] = 1 - images.reshape(-1, 28, 28)  # dark ink on white, as it shows them
    sprite = sprite.reshape(side, side, 28, 28).transpose(0, 2, 1, 3).reshape(side * 28, -1)
    with atomic_path(folder / "sprite.png", suffix=".png") as tmp:
        matplotlib.image.imsave(tmp, sprite, cmap="gray", vmin=0, vmax=1)
    atomic_write(folder / "projector_config.pbtxt",
                 'embeddings {\n  tensor_path: "vectors.tsv"\n  metadata_path: "metadata.tsv"\n'
                 '  sprite {\n    image_path: "sprite.png"\n    single_image_dim: 28\n'
                 '    single_image_dim: 28\n  }\n}\n')


def run(args) -> dict:
    """Train, cluster, score and write the outputs of one command-line run (the data and
    flags are checked before TensorFlow loads)."""
    from sklearn.cluster import KMeans

    from helpers.environment import setup

    x_train, x_test, y_test, source = _load(args)
    if args.num_clusters > len(x_test):
        raise ValueError(f"--num-clusters {args.num_clusters} is more than the {len(x_test)} "
                         "images")
    setup()  # seeds, prints the backend and device, and imports Keras with its log hidden
    from helpers import models
    from helpers.profiles import get_profile
    from helpers.training import evaluate_mse

    print(f"data: {source}")
    if args.convolution:
        encoder, _, autoencoder = models.compact_conv_autoencoder(code_size=args.encoding_size)
    elif args.code_activation == "sigmoid":
        encoder, _, autoencoder = models.single_layer_autoencoder(args.encoding_size)
    else:
        encoder, _, autoencoder = models.dense_autoencoder(args.encoding_size, hidden=())
    shape = (-1, *autoencoder.input_shape[1:])
    train_x, test_x = x_train.reshape(shape), x_test.reshape(shape)
    batch = min(BATCH_SIZE, len(train_x))
    if args.epochs:
        steps = get_profile().epochs(args.epochs) * (len(train_x) // batch)
    else:
        steps = args.steps or DEFAULT_STEPS
    print(f"training: {steps:,} steps of {batch} images ({steps * batch / len(train_x):.1f} "
          f"passes over {len(train_x):,} images), Adam, learning rate {args.learning_rate:g}, MSE")
    seconds = train(autoencoder, train_x, steps, args.learning_rate, batch, log=not args.quiet)
    mse = evaluate_mse(autoencoder, train_x)
    mean_mse = float(np.mean((train_x - train_x.mean(axis=0)) ** 2))
    print(f"trained in {seconds:.1f} s ({steps * batch / seconds:,.0f} img/s); training MSE "
          f"{mse:.5f}, predicting the mean training image {mean_mse:.5f}")
    if mse > PLATEAU * mean_mse:
        print(f"python -m helpers.cluster: warning: training MSE {mse:.5f}, predicting the mean "
              f"image {mean_mse:.5f}: the autoencoder has learnt little beyond the mean image (the "
              "plateau), so its codes say little about the images. Train longer (--steps), or "
              "change --learning-rate or the model.", file=sys.stderr)

    codes_train = encoder.predict(train_x, batch_size=512, verbose=0)
    codes = encoder.predict(test_x, batch_size=512, verbose=0)
    kmeans = KMeans(n_clusters=args.num_clusters, n_init=10, random_state=0).fit(codes_train)
    clusters = kmeans.predict(codes)
    result = clustering_scores(y_test, clusters)
    low, high = bootstrap_interval(y_test, clusters, hungarian_accuracy, n_boot=RESAMPLES)
    print(f"{'clusters':>8} {'ACC':>6} {'majority':>8} {'NMI':>6} {'ARI':>6}")
    print(f"{result['k']:>8} {result['acc']:>6.3f} {result['majority_acc']:>8.3f} "
          f"{result['nmi']:>6.3f} {result['ari']:>6.3f}")
    print(f"ACC {result['acc']:.3f}, 95% bootstrap interval {low:.3f} to {high:.3f} "
          f"({len(y_test):,} images, {RESAMPLES} resamples)")

    out = Path(args.log_dir) / args.tag
    out.mkdir(parents=True, exist_ok=True)
    for old in (out / name for name in OUTPUTS):  # an earlier run's, with --overwrite
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink(missing_ok=True)
    facts = {**result, "acc_interval": [round(low, 5), round(high, 5)], "steps": steps,
             "train_mse": round(mse, 6), "mean_image_mse": round(mean_mse, 6), "data": source,
             "args": vars(args)}
    atomic_write(out / "metrics.json", json.dumps(facts, indent=1))
    with atomic_path(out / "codes.npy", suffix=".npy") as tmp:
        np.save(tmp, codes)
    if args.tb_embedding:
        projector_export(out / "projector", codes, y_test, clusters, x_test)
        print(f"projector files: {out / 'projector'} (tensorboard --logdir {out / 'projector'}, "
              "or load vectors.tsv and metadata.tsv at https://projector.tensorflow.org)")
    print(f"outputs: {out}")
    return result


def main(argv=None) -> int:
    from helpers.data import DatasetError

    parser = _parser()
    args = parser.parse_args(argv)  # bad flags: argparse prints usage and one error line, exit 2
    problem = _flag_problem(args) or _output_problem(args)
    if problem:
        parser.error(problem)
    try:
        run(args)  # which checks every flag and file before TensorFlow loads
    except (DatasetError, OSError, ValueError) as e:
        print(f"python -m helpers.cluster: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
