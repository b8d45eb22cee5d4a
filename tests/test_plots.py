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
