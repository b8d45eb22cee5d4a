"""helpers.plots: the comparison figures pick the right images and label them."""

import numpy as np


def test_comparison_figures_take_one_image_per_class():
    from helpers import plots

    labels = np.array([2, 0, 1, 0, 2, 1])
    assert plots.one_per_class(labels, 3) == [1, 2, 0]
    images = np.random.default_rng(7).random((6, 28, 28))
    fig = plots.triptych(images, images, images, labels, ("a", "b", "c"), "t")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["noisy", "denoised", "clean"]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "b", "c"]


def test_cluster_figures_draw_every_cluster_and_label():
    from helpers import plots

    table = np.array([[5, 0, 1], [0, 7, 2]])
    fig = plots.labels_per_cluster(table, ("a", "b", "c"), "t", stacked=True)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert len(heights) == 6 and sum(heights) == table.sum()
    fig = plots.labels_per_cluster(table, ("a", "b", "c"), "t", stacked=False)
    assert len(fig.axes[0].patches) == 6
    fig = plots.curves_against_k(range(2, 5), {"x": [0.1, 0.3, 0.2]}, "t", "s", best={"x": 3})
    ring = fig.axes[0].lines[1]
    assert list(ring.get_xdata()) == [3] and list(ring.get_ydata()) == [0.3]
    points = np.random.default_rng(0).random((30, 2))
    fig = plots.embedding_map(points, np.arange(30) % 3, ("a", "b", "c"), "t")
    assert [t.get_text() for t in fig.axes[0].texts] == ["a", "b", "c"]
