"""helpers.cluster: clustering scores on hand-made cases with known answers, under the names
the chapters use (the functions themselves live in helpers.scores)."""

import numpy as np
import pytest

from helpers import cluster, scores


def test_names_are_the_scores_module_functions():
    assert not hasattr(cluster, "scores")  # the clustering scores: scores.clustering_scores
    for name in ("contingency", "hungarian_accuracy", "majority_accuracy"):
        assert getattr(cluster, name) is getattr(scores, name)


def test_perfect_clustering_under_any_naming():
    labels = np.repeat(np.arange(5), 20)
    renamed = (labels + 3) % 5
    s = scores.clustering_scores(labels, renamed)
    assert s == {"acc": 1.0, "majority_acc": 1.0, "nmi": pytest.approx(1.0),
                 "ari": pytest.approx(1.0), "k": 5}


def test_hungarian_is_one_to_one_but_majority_is_not():
    labels = np.array([0] * 6 + [1] * 4)
    clusters = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2])  # label 0 split over two clusters
    assert cluster.majority_accuracy(labels, clusters) == 1.0
    assert cluster.hungarian_accuracy(labels, clusters) == pytest.approx(0.7)
    assert cluster.contingency(labels, clusters).tolist() == [[3, 0], [3, 0], [0, 4]]


def test_majority_accuracy_reaches_one_with_a_cluster_per_image():
    labels = np.random.default_rng(0).integers(0, 10, 200)
    assert cluster.majority_accuracy(labels, np.arange(200)) == 1.0
    assert cluster.hungarian_accuracy(labels, np.arange(200)) < 0.1


def test_random_clusters_score_near_chance():
    rng = np.random.default_rng(1)
    labels, clusters = rng.integers(0, 10, 5000), rng.integers(0, 10, 5000)
    s = scores.clustering_scores(labels, clusters)
    assert s["acc"] < 0.15 and s["nmi"] < 0.01 and abs(s["ari"]) < 0.01


def test_majority_accuracy_can_drop_when_clusterings_are_not_nested():
    """Splitting a cluster never lowers it; redrawing every boundary at k + 1 (as k-means
    does) can."""
    labels = np.array([0, 0, 0, 1, 1, 1])
    two = np.array([0, 0, 0, 1, 1, 1])
    split = np.array([0, 0, 2, 1, 1, 1])  # one cluster of ``two`` cut in two
    redrawn = np.array([0, 0, 1, 1, 2, 2])  # three clusters, not a refinement of ``two``
    assert cluster.majority_accuracy(labels, two) == 1.0
    assert cluster.majority_accuracy(labels, split) == 1.0
    assert cluster.majority_accuracy(labels, redrawn) == pytest.approx(5 / 6)


def test_n2d_clusters_separates_blobs_and_is_fixed_by_its_seed():
    pytest.importorskip("umap")
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 10, (4, 8))
    labels = np.repeat(np.arange(4), 60)
    codes = centres[labels] + rng.normal(0, 0.5, (len(labels), 8))
    clusters, embedding, mixture = cluster.n2d_clusters(codes, n_clusters=4, seed=1, epochs=30)
    assert embedding.shape == (240, 4) and mixture.n_components == 4
    assert cluster.hungarian_accuracy(labels, clusters) == 1.0
    again, _, _ = cluster.n2d_clusters(codes, n_clusters=4, seed=1, epochs=30)
    assert np.array_equal(clusters, again)


def test_nearest_neighbours_are_exact_and_start_with_the_point_itself():
    rng = np.random.default_rng(0)
    codes = rng.normal(0, 1, (50, 3))
    indices, distances = cluster.nearest_neighbours(codes, 5)
    assert indices.shape == distances.shape == (50, 5)
    assert np.array_equal(indices[:, 0], np.arange(50)) and np.all(distances[:, 0] == 0)
    brute = np.linalg.norm(codes[:, None] - codes[None], axis=-1)
    np.testing.assert_allclose(distances, np.sort(brute, axis=1)[:, :5], atol=1e-12)


def test_a_precomputed_neighbour_graph_gives_umap_the_same_clusters_quietly(recwarn):
    pytest.importorskip("umap")
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 60)
    codes = rng.normal(0, 10, (4, 8))[labels] + rng.normal(0, 0.5, (len(labels), 8))
    knn = cluster.nearest_neighbours(codes, 20)
    clusters, embedding, _ = cluster.n2d_clusters(codes, n_clusters=4, seed=1, epochs=30,
                                                  knn=knn)
    assert embedding.shape == (240, 4) and cluster.hungarian_accuracy(labels, clusters) == 1.0
    again, _, _ = cluster.n2d_clusters(codes, n_clusters=4, seed=1, epochs=30, knn=knn)
    assert np.array_equal(clusters, again)
    assert not [w for w in recwarn if "precomputed_knn" in str(w.message)]


def test_a_neighbour_graph_of_the_wrong_shape_is_refused():
    codes = np.random.default_rng(0).normal(0, 1, (40, 3))
    with pytest.raises(ValueError, match=r"nearest_neighbours\(codes, 20\)"):
        cluster.umap_embedding(codes, 2, knn=cluster.nearest_neighbours(codes, 10))
    with pytest.raises(ValueError, match="expected"):
        cluster.umap_embedding(codes[:30], 2, neighbours=10,
                               knn=cluster.nearest_neighbours(codes, 10))


def test_n2d_clusters_fits_as_many_mixture_starts_as_asked():
    pytest.importorskip("umap")
    rng = np.random.default_rng(0)
    codes = rng.normal(0, 1, (120, 6))
    for starts in (1, 3):
        _, _, mixture = cluster.n2d_clusters(codes, n_clusters=3, starts=starts, epochs=10)
        assert mixture.n_init == starts


def test_top_labels_lists_each_clusters_most_frequent_labels_with_their_shares(capsys):
    labels = np.array([0] * 6 + [1] * 3 + [2] * 1 + [2] * 1200)
    clusters = np.array([0] * 10 + [1] * 1200)
    cluster.print_top_labels(scores.contingency(labels, clusters), ["zero", "one", "two"],
                             k=2)
    assert capsys.readouterr().out.splitlines() == [
        "  cluster  0 (   10 images): zero 60%, one 30%",
        "  cluster  1 (1,200 images): two 100%"]
