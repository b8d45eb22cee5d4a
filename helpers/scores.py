"""Every score in the book, in one place: intervals for accuracies, clustering scores against
the true labels, image quality and AUROC. Library functions (scipy, scikit-learn,
scikit-image) do the work wherever one exists."""

from __future__ import annotations

import numpy as np


# ------------------------------------------------------------------------- intervals

def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n`` (scipy's): inside [0, 1],
    exactly 0 at no successes and 1 at ``n``."""
    from scipy.stats import binomtest

    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n > 0, got {successes} of {n}")
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence, method="wilson")
    return float(ci.low), float(ci.high)


def accuracy(y_true, y_pred, confidence: float = 0.95) -> dict:
    """Fraction of ``y_pred`` equal to ``y_true`` (two vectors of the same length), with
    its Wilson interval."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError("need two 1-d arrays of the same length, got shapes "
                         f"{y_true.shape} and {y_pred.shape}")
    correct, n = int(np.count_nonzero(y_true == y_pred)), len(y_true)
    low, high = wilson_interval(correct, n, confidence)
    return {"value": correct / n, "ci_low": low, "ci_high": high, "n": n}


def bootstrap_interval(labels, clusters, metric, n_boot: int = 2000, seed: int = 0,
                       confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric(labels, clusters)``, resampling the images
    with replacement; the same ``seed`` gives the same interval.

    For :func:`hungarian_accuracy` the clusters are matched to labels once, on all the
    images, and the per-image hits under that matching are resampled
    (:func:`matched_correct`): matching anew on each resample takes the best of many
    matchings, which biases ACC upward (near chance the interval missed the estimate).
    """
    from scipy.stats import bootstrap

    rng = np.random.default_rng(seed)
    if metric is hungarian_accuracy:
        res = bootstrap((matched_correct(labels, clusters),), np.mean, n_resamples=n_boot,
                        batch=100, confidence_level=confidence, method="percentile", rng=rng)
    else:
        res = bootstrap((np.asarray(labels), np.asarray(clusters)), metric, paired=True,
                        vectorized=False, n_resamples=n_boot, confidence_level=confidence,
                        method="percentile", rng=rng)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


# ------------------------------------------------------------------------- clustering

def contingency(labels, clusters) -> np.ndarray:
    """``table[c, l]``: how many images of label ``l`` fell into cluster ``c``.

    Rows and columns follow the sorted distinct cluster ids and labels (a noise cluster -1
    is the first row), so ids need not be 0..k-1.
    """
    from sklearn.metrics.cluster import contingency_matrix

    return contingency_matrix(clusters, labels)


def hungarian_accuracy(labels, clusters) -> float:
    """Accuracy under the best one-to-one matching of clusters to labels (the
    standard ACC)."""
    from scipy.optimize import linear_sum_assignment

    table = contingency(labels, clusters)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / len(labels))


def matched_correct(labels, clusters) -> np.ndarray:
    """Per image, whether the label its cluster is matched to (by the best one-to-one
    matching on all the images, as in :func:`hungarian_accuracy`) is its own; the
    mean is the ACC. Images in unmatched clusters count as wrong."""
    from scipy.optimize import linear_sum_assignment

    label_ids, label_of = np.unique(np.asarray(labels), return_inverse=True)
    cluster_ids, cluster_of = np.unique(np.asarray(clusters), return_inverse=True)
    rows, cols = linear_sum_assignment(contingency(labels, clusters), maximize=True)
    matched = np.full(len(cluster_ids), -1)
    matched[rows] = cols
    return matched[cluster_of] == label_of


def majority_accuracy(labels, clusters) -> float:
    """Each cluster named after its most frequent label (the TensorFlow seed's
    accuracy).

    Several clusters may take the same label, so splitting a cluster never
    lowers it and one cluster per image reaches 1. Clusterings that are not
    nested (k-means at k and at k + 1) can still score lower with more
    clusters."""
    return float(contingency(labels, clusters).max(axis=1).sum() / len(labels))


def clustering_scores(labels, clusters) -> dict:
    """ACC, majority accuracy, NMI and ARI of a clustering (5 decimals), and its cluster count."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {"acc": round(hungarian_accuracy(labels, clusters), 5),
            "majority_acc": round(majority_accuracy(labels, clusters), 5),
            "nmi": round(float(normalized_mutual_info_score(labels, clusters)), 5),
            "ari": round(float(adjusted_rand_score(labels, clusters)), 5),
            "k": int(len(np.unique(clusters)))}


# ------------------------------------------------------------------------- images, anomalies

def image_quality(clean, other) -> dict[str, float]:
    """Mean MSE, PSNR (dB) and SSIM of ``other`` against ``clean`` (28 x 28 images, floats
    in [0, 1] or uint8 in [0, 255], which are scaled to [0, 1] first).

    Each score is computed image by image, then averaged: the PSNR is the mean of per-image
    PSNRs, which is not ``10 log10(1 / mean MSE)``; an exact copy counts as 100 dB.
    """
    from skimage.metrics import structural_similarity
    from skimage.util import img_as_float64

    clean = img_as_float64(np.asarray(clean)).reshape(-1, 28, 28)
    other = img_as_float64(np.asarray(other)).reshape(-1, 28, 28)
    if clean.shape != other.shape:
        raise ValueError(f"need as many images in both, got shapes {clean.shape} and "
                         f"{other.shape} (as n x 28 x 28)")
    mse = np.mean((clean - other) ** 2, axis=(1, 2))
    psnr = 10 * np.log10(1 / np.maximum(mse, 1e-10))
    ssim = [structural_similarity(c, o, data_range=1.0) for c, o in zip(clean, other)]
    return {"mse": float(mse.mean()), "psnr": float(np.mean(psnr)), "ssim": float(np.mean(ssim))}


def auroc(normal_scores, anomaly_scores) -> float:
    """Area under the ROC curve for telling anomalies from normal data (a higher score means
    more anomalous): 1 separates them perfectly, 0.5 is chance."""
    from sklearn.metrics import roc_auc_score

    normal, anomaly = np.ravel(normal_scores), np.ravel(anomaly_scores)
    truth = np.r_[np.zeros(len(normal)), np.ones(len(anomaly))]
    return float(roc_auc_score(truth, np.r_[normal, anomaly]))


# ------------------------------------------------------------------------- paired comparisons

def resample_weights(n: int, n_boot: int = 2000, seed: int = 0) -> np.ndarray:
    """``(n_boot, n)`` bootstrap weights: row b counts (as floats) how often
    each of ``n`` images is drawn into resample b (n draws with replacement).
    Scoring every model with the same rows resamples the images, not the
    models: the differences between models stay paired."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, (n_boot, n)) + n * np.arange(n_boot)[:, None]
    counts = np.bincount(draws.ravel(), minlength=n_boot * n)
    return counts.reshape(n_boot, n).astype(float)


def weighted_auroc(scores, is_anomaly, weights) -> np.ndarray:
    """AUROC of ``scores`` (one per image, higher = more anomalous) for every
    row of ``weights`` (copies of each image, e.g. :func:`resample_weights`);
    ties count one half, as in :func:`auroc`, which a row of ones reproduces."""
    from scipy.sparse import csr_matrix

    scores, is_anomaly = np.ravel(scores), np.ravel(is_anomaly).astype(bool)
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    if weights.shape[1] != len(scores) or len(is_anomaly) != len(scores):
        raise ValueError(f"need one score, one flag and one weight column per image, got "
                         f"{len(scores)}, {len(is_anomaly)} and {weights.shape[1]}")
    _, level = np.unique(scores, return_inverse=True)  # tied scores share a level
    levels = level.max() + 1

    def per_level(mask):  # weight of each score level, normal or anomalous images only
        rows = np.flatnonzero(mask)
        onehot = csr_matrix((np.ones(len(rows)), (rows, level[rows])),
                            shape=(len(scores), levels))
        return np.asarray(weights @ onehot)

    normal, anomalous = per_level(~is_anomaly), per_level(is_anomaly)
    below = np.cumsum(normal, axis=1) - normal  # normal weight strictly below each level
    won = (anomalous * (below + 0.5 * normal)).sum(axis=1)
    return won / (normal.sum(axis=1) * anomalous.sum(axis=1))


def percentile_interval(samples, confidence: float = 0.95) -> tuple[float, float]:
    """The central ``confidence`` interval of bootstrap ``samples``."""
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(np.ravel(samples), [tail, 100 - tail])
    return float(low), float(high)


def paired_difference(a, b, n_boot: int = 2000, seed: int = 0,
                      confidence: float = 0.95) -> dict:
    """Mean of ``a - b`` for two models scored image by image on the same
    images (hits under a matching, errors), with a percentile bootstrap
    interval that resamples the images, each image's pair together.

    For ACC pass each clustering's :func:`matched_correct`. Pairing removes
    what the two share (easy and hard images), so the interval of the
    difference is narrower than two separate intervals suggest; a difference
    whose interval excludes 0 is one a re-run on new images would likely
    show again."""
    from scipy.stats import bootstrap

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 1 or a.shape != b.shape or len(a) < 2:
        raise ValueError("need two 1-d arrays of the same length (one value per "
                         f"image), got shapes {a.shape} and {b.shape}")
    difference = a - b
    res = bootstrap((difference,), np.mean, n_resamples=n_boot,
                    confidence_level=confidence, method="percentile",
                    rng=np.random.default_rng(seed))
    low, high = res.confidence_interval
    return {"value": float(difference.mean()), "ci_low": float(low),
            "ci_high": float(high), "n": len(difference)}


def mcnemar(correct_a, correct_b) -> dict:
    """Exact McNemar test of two classifiers scored on the same images.

    ``correct_a``, ``correct_b``: one hit (True) or miss per image. Only the
    images exactly one of them gets right carry information; if the two are
    equally accurate, each such image is a fair coin between them, so the
    two-sided binomial test of those counts is the test."""
    from scipy.stats import binomtest

    a, b = np.asarray(correct_a), np.asarray(correct_b)
    if a.ndim != 1 or a.shape != b.shape or a.dtype != bool or b.dtype != bool:
        raise ValueError("need two 1-d boolean arrays of the same length (one hit "
                         f"per image), got {a.dtype} {a.shape} and {b.dtype} {b.shape}")
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    n = only_a + only_b
    p = binomtest(only_a, n, 0.5).pvalue if n else 1.0
    return {"only_a": only_a, "only_b": only_b, "p_value": float(p)}
