"""Scoring a clustering against the true labels (which the clustering itself never sees), and the
command line ``python -m helpers.cluster``: autoencoder codes -> k-means -> accuracy table."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def contingency(labels, clusters) -> np.ndarray:
    """``table[c, l]``: how many images of label ``l`` fell into cluster ``c``."""
    labels, clusters = np.asarray(labels), np.asarray(clusters)
    table = np.zeros((clusters.max() + 1, labels.max() + 1), dtype=np.int64)
    np.add.at(table, (clusters, labels), 1)
    return table


def hungarian_accuracy(labels, clusters) -> float:
    """Accuracy under the best one-to-one matching of clusters to labels (the standard ACC)."""
    from scipy.optimize import linear_sum_assignment

    table = contingency(labels, clusters)
    rows, cols = linear_sum_assignment(-table)
    return float(table[rows, cols].sum() / len(labels))


def majority_accuracy(labels, clusters) -> float:
    """Each cluster named after its most frequent label (the TensorFlow seed's accuracy).

    Several clusters may take the same label, so this grows with the number of clusters and
    reaches 1 with one cluster per image.
    """
    return float(contingency(labels, clusters).max(axis=1).sum() / len(labels))


def scores(labels, clusters) -> dict:
    """ACC, majority accuracy, NMI and ARI of a clustering, and its number of clusters."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {"acc": hungarian_accuracy(labels, clusters),
            "majority_acc": majority_accuracy(labels, clusters),
            "nmi": float(normalized_mutual_info_score(labels, clusters)),
            "ari": float(adjusted_rand_score(labels, clusters)),
            "k": int(len(np.unique(clusters)))}


# ------------------------------------------------------------------------- command line

_USAGE = """Unsupervised classifier: an autoencoder learns codes, k-means clusters them, and each
cluster is scored against the true labels (which training never sees). Rebuilds the interface of
the TensorFlow seed's mnist_autoEncoder script."""


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {kind.__name__}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return parse


def _parser():
    from helpers.data import DATASETS

    p = argparse.ArgumentParser(prog="python -m helpers.cluster", description=_USAGE)
    src = p.add_argument_group("data (a dataset name, or your own MNIST-format IDX files)")
    src.add_argument("--dataset", choices=sorted(DATASETS), default="mnist",
                     help="which dataset to load with helpers.data (default: mnist)")
    src.add_argument("--data-dir", help="folder holding the dataset files (<name>/<file> or the files "
                                        "themselves); default: $AEBOOK_DATA, the cache, or a download")
    src.add_argument("--images", help="an IDX image file (n x 28 x 28, gz or raw) to use instead of --dataset")
    src.add_argument("--labels", help="the IDX label file that goes with --images")
    out = p.add_argument_group("outputs")
    out.add_argument("--log-dir", default="runs", help="folder for the outputs (default: runs)")
    out.add_argument("--tag", default="default", help="name of this run: outputs go to LOG_DIR/TAG")
    out.add_argument("--tb-embedding", action="store_true",
                     help="also write a TensorBoard Embedding Projector export (vectors, metadata, sprite)")
    model = p.add_argument_group("model")
    model.add_argument("--convolution", action="store_true",
                       help="use the compact convolutional autoencoder instead of the single dense layer")
    model.add_argument("--encoding-size", type=_positive(int), default=32,
                       help="numbers in each code (default: 32)")
    model.add_argument("--learning-rate", type=_positive(float), default=1e-3,
                       help="Adam's learning rate (default: 0.001)")
    model.add_argument("--epochs", "--steps", dest="epochs", type=_positive(int), default=10,
                       help="training epochs (--steps is accepted for the seed's flag name; default: 10)")
    model.add_argument("--num-clusters", type=_positive(int), default=10,
                       help="k of k-means (default: 10)")
    return p


def _load(args):
    """(train images, test images, test labels, description) as float32 arrays in [0, 1]."""
    from helpers.data import DatasetError, load_dataset, read_idx, to_float

    if args.images or args.labels:
        if not (args.images and args.labels):
            raise DatasetError("--images and --labels go together: give both files")
        images, labels = read_idx(args.images), read_idx(args.labels)
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise DatasetError(f"{args.images}: holds an array of shape {images.shape}; expected "
                               "n x 28 x 28 images")
        if labels.ndim != 1 or len(labels) != len(images):
            raise DatasetError(f"{args.labels}: holds {labels.shape} labels for {len(images)} images "
                               f"in {args.images}; expected one label per image")
        x = to_float(images)[..., None]
        return x, x, labels.astype(np.int64), f"{len(x):,} images from {args.images}"
    ds = load_dataset(args.dataset, data_dir=args.data_dir)
    return (to_float(ds.x_train)[..., None], to_float(ds.x_test)[..., None], ds.y_test, ds.source)


def projector_export(folder, codes, labels, clusters, images):
    """Files for the TensorBoard Embedding Projector (or projector.tensorflow.org)."""
    import matplotlib.image

    folder.mkdir(parents=True, exist_ok=True)
    np.savetxt(folder / "vectors.tsv", codes, delimiter="\t", fmt="%.5f")
    with open(folder / "metadata.tsv", "w") as f:
        f.write("label\tcluster\n")
        f.writelines(f"{l}\t{c}\n" for l, c in zip(labels, clusters))
    side = int(np.ceil(np.sqrt(len(images))))
    sprite = np.ones((side * side, 28, 28), np.float32)
    sprite[: len(images)] = 1 - images.reshape(-1, 28, 28)  # dark ink on white, as the projector shows it
    sprite = sprite.reshape(side, side, 28, 28).transpose(0, 2, 1, 3).reshape(side * 28, side * 28)
    matplotlib.image.imsave(folder / "sprite.png", sprite, cmap="gray", vmin=0, vmax=1)
    (folder / "projector_config.pbtxt").write_text(
        'embeddings {\n  tensor_path: "vectors.tsv"\n  metadata_path: "metadata.tsv"\n'
        '  sprite {\n    image_path: "sprite.png"\n    single_image_dim: 28\n'
        '    single_image_dim: 28\n  }\n}\n')


def run(args) -> dict:
    """Train, cluster, score and write the outputs of one command-line run."""
    from sklearn.cluster import KMeans

    from helpers import models
    from helpers.environment import setup
    from helpers.training import fit

    setup()  # seeds, and prints the backend and device
    import keras

    x_train, x_test, y_test, source = _load(args)
    print(f"data: {source}")
    if args.num_clusters > len(x_test):
        raise ValueError(f"--num-clusters {args.num_clusters} is more than the {len(x_test)} images")
    if args.convolution:
        encoder, _, autoencoder = models.compact_conv_autoencoder(code_size=args.encoding_size)
        train = x_train
    else:
        encoder, _, autoencoder = models.single_layer_autoencoder(encoding_size=args.encoding_size)
        train = x_train.reshape(len(x_train), -1)
    fit(autoencoder, train, name=f"cli_{args.tag}", epochs=args.epochs,
        optimizer=keras.optimizers.Adam(args.learning_rate))
    shape = (-1, 28, 28, 1) if args.convolution else (-1, 784)
    codes_train = encoder.predict(train, batch_size=512, verbose=0)
    codes = encoder.predict(x_test.reshape(shape), batch_size=512, verbose=0)
    kmeans = KMeans(n_clusters=args.num_clusters, n_init=10, random_state=0).fit(codes_train)
    clusters = kmeans.predict(codes)
    result = scores(y_test, clusters)
    print(f"{'clusters':>8} {'ACC':>6} {'majority':>8} {'NMI':>6} {'ARI':>6}")
    print(f"{result['k']:>8} {result['acc']:>6.3f} {result['majority_acc']:>8.3f} {result['nmi']:>6.3f} "
          f"{result['ari']:>6.3f}")
    out = Path(args.log_dir) / args.tag
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps({**result, "data": source, "args": vars(args)}, indent=1))
    np.save(out / "codes.npy", codes)
    if args.tb_embedding:
        projector_export(out / "projector", codes, y_test, clusters, x_test)
        print(f"projector files: {out / 'projector'} (tensorboard --logdir {out / 'projector'}, "
              "or load vectors.tsv and metadata.tsv at https://projector.tensorflow.org)")
    print(f"outputs: {out}")
    return result


def main(argv=None) -> int:
    from helpers.data import DatasetError

    args = _parser().parse_args(argv)  # bad flags: argparse prints usage and one error line, exit 2
    try:
        run(args)
    except (DatasetError, OSError, ValueError) as e:
        print(f"python -m helpers.cluster: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
