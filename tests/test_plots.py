"""helpers.plots: the comparison figures pick the right images and label them."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import plots  # noqa: E402

from .conftest import ROOT  # noqa: E402


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
    assert (fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()) == ("UMAP dimension 1",
                                                                     "UMAP dimension 2")


def _texts(fig):
    for ax in fig.axes:
        yield ax.title
        yield ax.xaxis.label
        yield ax.yaxis.label
        yield from ax.get_xticklabels() + ax.get_yticklabels() + ax.texts
        if ax.get_legend():
            yield from ax.get_legend().get_texts()
    if fig._suptitle:
        yield fig._suptitle


def test_figures_are_legible_at_the_book_style():
    from types import SimpleNamespace

    from helpers import plots

    plots.style()
    rng = np.random.default_rng(0)
    labels = np.arange(40) % 10
    ds = SimpleNamespace(name="toy", protocol="official 9/1/1", class_labels=tuple("abcdefghij"),
                         class_names=tuple("abcdefghij"), x_train=rng.integers(0, 255, (40, 28, 28)),
                         y_train=labels, y_val=labels[:20], y_test=labels)
    figures = [plots.class_counts(ds), plots.intensity_histograms([ds, ds, ds, ds]),
               plots.loss_curves({"a": {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]}}, "t"),
               plots.code_size_curve([2, 4, 8], {"a": [0.1, 0.05, 0.02]}, "t"),
               plots.labels_per_cluster(np.ones((3, 10)), ds.class_labels, "t"),
               plots.class_examples(ds, per_class=3)]
    for fig in figures:
        assert fig.dpi >= 100
        small = [(t.get_text(), t.get_fontsize()) for t in _texts(fig)
                 if t.get_text() and t.get_fontsize() < plots.MIN_FONT_PT]
        assert not small, small
    for fig in figures[:5]:  # charts (not image grids) name both axes
        assert any(ax.get_xlabel() for ax in fig.axes), fig.axes[0].get_title()
        assert any(ax.get_ylabel() for ax in fig.axes), fig.axes[0].get_title()


def test_a_long_legend_goes_beside_the_curves():
    import matplotlib

    matplotlib.use("Agg")
    from helpers import plots

    run = {"loss": [0.3, 0.2], "val_loss": [0.35, 0.25]}
    few = plots.loss_curves({"a": run, "b": run}, "t")
    many = plots.loss_curves({name: run for name in "abcde"}, "t")
    for fig in (few, many):
        fig.canvas.draw()
    inside = few.axes[0].get_legend().get_window_extent()
    assert few.axes[0].get_window_extent().contains(inside.x0 + 1, inside.y0 + 1)
    legend, axes = many.axes[0].get_legend().get_window_extent(), many.axes[0].get_window_extent()
    assert legend.x0 >= axes.x1  # ten entries: the legend starts right of the axes
    assert many.get_figwidth() > few.get_figwidth()


def test_mosaic_scales_by_the_dtype_not_by_the_values():
    from helpers.plots import mosaic

    bright = np.full((1, 28, 28), 0.5, np.float32)
    bright[0, 0, 0] = 1.02  # a linear output slightly above 1
    tile = mosaic(bright, 1, 1, pad=0)
    assert tile[0, 0] == 1 and tile[5, 5] == 0.5  # clipped, not divided by 255
    dark = np.ones((1, 28, 28), np.uint8)  # uint8 values 0-255, however dark the image
    assert mosaic(dark, 1, 1, pad=0)[5, 5] == 1 / 255


def test_mosaic_lays_images_out_row_by_row_in_white_frames():
    from helpers.plots import mosaic

    images = np.arange(5, dtype=np.float32)[:, None, None] / 8 * np.ones((5, 28, 28), np.float32)
    grid = mosaic(images, 2, 3, pad=2)
    assert grid.shape == (2 * 32, 3 * 32)
    centres = grid[16::32, 16::32]
    assert centres.tolist() == [[0, 0.125, 0.25], [0.375, 0.5, 1]]  # the unused cell stays white
    assert (grid[:2] == 1).all() and (grid[:, 30:34] == 1).all()  # frames of 2 px per image


def test_alt_text_says_title_axes_legend_and_the_pattern():
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], label="train")
    ax.plot([3, 2, 1], label="validation")
    ax.set(title="Loss", xlabel="epoch", ylabel="MSE per pixel")
    ax.legend()
    fig.suptitle("Dense autoencoder")
    assert plots.alt(fig, "Validation loss stops falling after epoch 2.") is None
    assert plots.describe(fig) == (
        "Figure: Dense autoencoder. Loss; axes: MSE per pixel against epoch; legend: train, "
        "validation. Validation loss stops falling after epoch 2.")
    plt.close(fig)


def test_alt_text_of_an_image_grid_is_short():
    fig, axes = plt.subplots(4, 4)
    fig.suptitle("Sixteen digits")
    text = plots.describe(fig)
    assert text.startswith("Figure: Sixteen digits. 16 panels") and len(text) < 200
    plt.close(fig)


def test_figures_shown_in_a_notebook_carry_their_alt_text(monkeypatch):
    """In a real kernel: the figure's output metadata holds the alt text the build uses."""
    nbformat = pytest.importorskip("nbformat")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # CI's Agg would show no figure at all
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\n"
                                  "from helpers import plots\nplots.style()"),
        nbformat.v4.new_code_cell("fig, ax = plt.subplots()\nax.plot([1, 2])\n"
                                  "ax.set(xlabel='epoch', ylabel='loss')\n"
                                  "plots.alt(fig, 'It rises.')"),
    ]
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(ROOT)}}).execute()
    (figure,) = [o for o in nb.cells[1].outputs if "image/png" in o.get("data", {})]
    assert figure["metadata"]["image/png"]["alt"] == (
        "Figure: axes: loss against epoch. It rises.")


def test_class_shares_show_all_three_parts_with_the_legend_beside_the_bars():
    from types import SimpleNamespace

    labels = np.arange(100) % 10
    ds = SimpleNamespace(name="toy", protocol="p", class_labels=tuple("abcdefghij"),
                         class_names=tuple("abcdefghij"), y_train=labels, y_val=labels[:50],
                         y_test=labels[:20])
    fig = plots.class_counts(ds)
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == [
        "1 / classes", "test (20)", "train (100)", "validation (50)"]
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # outside the axes: covers no bar
    assert len(ax.patches) == 30
    plt.close(fig)
