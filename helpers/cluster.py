"""Scoring a clustering against the true labels (which the clustering itself never sees)."""

from __future__ import annotations

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
