"""Figures shared by the chapters. Every function returns the matplotlib Figure it drew."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from skimage.util import montage

# Okabe and Ito's colour-blind-safe palette (black last: it is also the text colour).
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
             "#CC79A7", "#000000"]
STYLE = {"figure.dpi": 100, "savefig.dpi": 100, "image.cmap": "gray", "font.size": 10,
         "axes.titlesize": 10, "axes.labelsize": 10, "legend.fontsize": 9,
         "legend.title_fontsize": 9, "xtick.labelsize": 9, "ytick.labelsize": 9,
         "axes.prop_cycle": plt.cycler(color=OKABE_ITO)}
MIN_FONT_PT = 9
ALT_LIMIT = 900  # characters of generated alt text


def style() -> None:
    """The book's figure defaults: 100 dpi, no text under 9 pt at the displayed size, a
    colour-blind-safe palette, and alt text on every figure a notebook shows."""
    plt.rcParams.update(STYLE)
    _show_figures_with_alt_text()


def alt(fig, pattern: str) -> None:
    """Say in one sentence what ``fig`` shows (its key pattern): the figure's alt text is
    that sentence after a description generated from its titles, axes and legends."""
    fig._aebook_pattern = pattern.strip()


def describe(fig) -> str:
    """Alt text for ``fig``: its title, each panel's title, axes and legend, and the
    pattern given with :func:`alt`."""
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    parts = [fig._suptitle.get_text()] if fig._suptitle else []
    if len(panels) > 6:  # an image grid: say how many, describe the first
        parts.append(f"{len(panels)} panels")
        panels = panels[:1]
    for ax in panels:
        axes = " against ".join(t for t in (ax.get_ylabel(), ax.get_xlabel()) if t)
        legend = ax.get_legend()
        keys = [t.get_text() for t in legend.get_texts()] if legend else []
        bits = [ax.get_title(), axes and f"axes: {axes}", keys and "legend: " + ", ".join(keys)]
        parts.append("; ".join(b for b in bits if b))
    text = ". ".join(" ".join(p.split()) for p in parts if p)
    if len(text) > ALT_LIMIT:
        text = text[:ALT_LIMIT].rsplit(" ", 1)[0] + " ..."
    pattern = getattr(fig, "_aebook_pattern", "")
    return f"Figure: {text}. {pattern}".strip() if text else f"Figure. {pattern}".strip()


def _png_with_alt(fig):
    from IPython.core.pylabtools import print_figure

    return print_figure(fig, "png", bbox_inches="tight", base64=True), {"alt": describe(fig)}


def _show_figures_with_alt_text() -> None:
    """In a notebook, every displayed figure carries its alt text in the output's metadata
    (the book's build puts it on the page's image)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    # The inline backend installs its own figure formatter when it loads, at the first
    # figure: load it now, so that a figure shown in the middle of the first cell that
    # draws one gets ours too. Put ours back before every cell and before the backend
    # shows the cell's figures (its post_execute hook is registered after this one).
    plt.close(plt.figure())
    _use_alt_formatter(shell)
    for event in ("pre_run_cell", "post_execute"):
        if _use_alt_formatter not in shell.events.callbacks[event]:
            shell.events.register(event, _use_alt_formatter)


def _use_alt_formatter(*_):
    from IPython import get_ipython
    from matplotlib.figure import Figure

    get_ipython().display_formatter.formatters["image/png"].for_type(Figure, _png_with_alt)


def mosaic(images, rows: int, cols: int, pad: int = 2) -> np.ndarray:
    """Tile ``rows * cols`` 28x28 images into one array, each in a white frame ``pad`` wide.

    Integer images (uint8) hold 0-255 and are divided by 255; float images are clipped to
    [0, 1] (a linear output may stray slightly beyond).
    """
    images = np.asarray(images).reshape(-1, 28, 28)[: rows * cols]
    images = images / 255 if np.issubdtype(images.dtype, np.integer) else np.clip(images, 0, 1)
    grid = montage(images.astype(np.float32), fill=1, grid_shape=(rows, cols),
                   padding_width=2 * pad)
    return grid[pad:len(grid) - pad, pad:grid.shape[1] - pad]  # frames of pad at the edges too


def image_grid(images, *, rows: int, cols: int, row_labels=None, col_labels=None,
               title: str = "", size: float = 0.55):
    """Show images in a grid (one mosaic, so the PNG stays small), labelling rows and columns."""
    fig, ax = plt.subplots(figsize=(cols * size + (1 if row_labels is not None else 0.2),
                                    rows * size + 0.5))
    ax.imshow(mosaic(images, rows, cols), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    step = 28 + 4
    ax.set_yticks(np.arange(rows) * step + step / 2, row_labels if row_labels is not None else [])
    ax.set_xticks(np.arange(cols) * step + step / 2, col_labels if col_labels is not None else [])
    ax.tick_params(length=0, labelsize=9)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, fontsize=10)
    fig.tight_layout(pad=0.3)
    return fig


def class_examples(ds, per_class: int = 10, title: str | None = None):
    """One row of training examples for every class, labelled with its (ASCII) class name."""
    picks = [np.flatnonzero(ds.y_train == c)[:per_class] for c in range(len(ds.class_names))]
    images = np.concatenate([ds.x_train[p] for p in picks])
    return image_grid(images, rows=len(picks), cols=per_class, row_labels=ds.class_labels,
                      title=title or f"{ds.name} [{ds.protocol}]: {per_class} training images per class")


def class_counts(ds, title: str | None = None):
    """Share of each class in the training, validation and test parts (bars side by side,
    the legend beside the axes): a stratified split keeps the shares equal."""
    n = len(ds.class_names)
    x = np.arange(n)
    parts = (("train", ds.y_train), ("validation", ds.y_val), ("test", ds.y_test))
    fig, ax = plt.subplots(figsize=(7.5, 2.6))
    for offset, hatch, (part, y) in zip((-0.27, 0, 0.27), ("", "//", ".."), parts):
        share = 100 * np.bincount(y, minlength=n) / len(y)
        ax.bar(x + offset, share, width=0.27, hatch=hatch, edgecolor="white",
               label=f"{part} ({len(y):,})")
    ax.axhline(100 / n, color="black", linewidth=0.8, linestyle=":", label="1 / classes")
    ax.set_xticks(x, ds.class_labels, rotation=30 if max(map(len, ds.class_labels)) > 3 else 0)
    ax.set(xlabel="class", ylabel="share of the part (%)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), title="part (images)")
    ax.set_title(title or f"{ds.name} [{ds.protocol}]: class shares", fontsize=10)
    fig.tight_layout()
    return fig


def class_means(ds, title: str | None = None):
    """The mean training image of every class: what an 'average' example looks like."""
    means = [ds.x_train[ds.y_train == c].mean(axis=0) / 255 for c in range(len(ds.class_names))]
    return image_grid(means, rows=1, cols=len(means), col_labels=ds.class_labels, size=0.8,
                      title=title or f"{ds.name} [{ds.protocol}]: mean training image per class")


def intensity_histograms(datasets, title: str = "Pixel intensities (training images)"):
    """Histogram of pixel values, one panel per dataset (two per row), log-scaled shares."""
    rows = (len(datasets) + 1) // 2
    fig, axes = plt.subplots(rows, 2, figsize=(7, 2.3 * rows + 0.4), sharex=True, sharey=True)
    for ax, ds in zip(axes.ravel(), datasets):
        pixels = ds.x_train.ravel()
        ax.hist(pixels, bins=64, range=(0, 255), weights=np.full(len(pixels), 1 / len(pixels)))
        ax.set_yscale("log")
        ax.set_title(f"{ds.name} [{ds.protocol}]", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("pixel value (0 = black, 255 = white)")
    for ax in axes[:, 0]:
        ax.set_ylabel("share of pixels")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def one_per_class(labels, n_classes: int) -> list[int]:
    """Index of the first image of every class: the columns of the comparison figures."""
    return [int(np.flatnonzero(np.asarray(labels) == c)[0]) for c in range(n_classes)]


def compare_rows(rows: dict, labels, class_labels, title: str):
    """One row per named image set (same images, e.g. noisy / denoised / clean), one column per class."""
    picks = one_per_class(labels, len(class_labels))
    images = np.concatenate([np.asarray(x)[picks].reshape(-1, 784) for x in rows.values()])
    return image_grid(images, rows=len(rows), cols=len(picks), row_labels=list(rows),
                      col_labels=class_labels, title=title, size=0.8)


def reconstructions(originals, reconstructed, labels, class_labels, title: str):
    """Two rows: one test image of every class above its reconstruction."""
    return compare_rows({"original": originals, "reconstruction": reconstructed}, labels,
                        class_labels, title)


def triptych(noisy, denoised, clean, labels, class_labels, title: str):
    """Noisy, denoised and clean versions of one test image of every class."""
    return compare_rows({"noisy": noisy, "denoised": denoised, "clean": clean}, labels,
                        class_labels, title)


MAX_LEGEND_INSIDE = 6  # more entries than this go beside the axes


def _finish(fig, ax, title: str, xlabel: str, ylabel: str, log: bool):
    """Name the axes, grid, legend and title of a line chart (log y-axis if ``log``)."""
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    if len(ax.get_legend_handles_labels()[1]) > MAX_LEGEND_INSIDE:  # keep it off the curves
        fig.set_size_inches(fig.get_figwidth() + 3, fig.get_figheight())
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
    else:
        ax.legend()
    fig.tight_layout()
    return fig


def loss_curves(histories: dict, title: str, metric: str = "loss", log: bool = True,
                ylabel: str = "loss (MSE per pixel)"):
    """Training (solid) and validation (dashed) curves for each named run."""
    fig, ax = plt.subplots(figsize=(6, 3))
    for i, (name, h) in enumerate(histories.items()):
        h = getattr(h, "history", h)
        epochs = np.arange(1, len(h[metric]) + 1)
        ax.plot(epochs, h[metric], color=f"C{i}", label=f"{name} (train)")
        if f"val_{metric}" in h:
            ax.plot(epochs, h[f"val_{metric}"], color=f"C{i}", ls="--", label=f"{name} (validation)")
    return _finish(fig, ax, title, "epoch", ylabel, log)


def code_size_curve(sizes, curves: dict, title: str, ylabel: str = "test MSE per pixel",
                    log: bool = True):
    """Error against code size (log-2 axis), one line per method."""
    fig, ax = plt.subplots(figsize=(5.5, 3))
    for name, values in curves.items():
        ax.plot(sizes, values, marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes, [str(s) for s in sizes])
    return _finish(fig, ax, title, "code size (numbers per image)", ylabel, log)


def curves_against_k(ks, curves: dict, title: str, ylabel: str, best: dict | None = None):
    """Scores against the number of clusters k, one line per named curve; ``best`` marks a k
    per curve (e.g. the silhouette's choice) with a ring."""
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    for i, (name, values) in enumerate(curves.items()):
        ax.plot(ks, values, marker="o", ms=3, color=f"C{i}", label=name)
        if best and name in best:
            k = best[name]
            ax.plot(k, values[list(ks).index(k)], "o", ms=11, mfc="none", color=f"C{i}")
    ax.set_xticks(list(ks))
    return _finish(fig, ax, title, "number of clusters k", ylabel, log=False)


def labels_per_cluster(table, class_labels, title: str, stacked: bool = True):
    """How many images of each true label fell into each cluster (``table[cluster, label]``):
    stacked bars (one per cluster) or side-by-side bars, one colour per label."""
    table = np.asarray(table)
    n_clusters, n_labels = table.shape
    x = np.arange(n_clusters)
    colours = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(7 if stacked else 9, 3))
    bottom = np.zeros(n_clusters)
    width = 0.8 if stacked else 0.8 / n_labels
    for label in range(n_labels):
        if stacked:
            ax.bar(x, table[:, label], 0.8, bottom=bottom, color=colours(label), label=class_labels[label])
            bottom += table[:, label]
        else:
            ax.bar(x - 0.4 + (label + 0.5) * width, table[:, label], width, color=colours(label),
                   label=class_labels[label])
    ax.set_xticks(x, [str(c) for c in x])
    ax.set(xlabel="cluster", ylabel="images")
    ax.legend(fontsize=9, ncol=2, bbox_to_anchor=(1.01, 1), loc="upper left", title="true label",
              title_fontsize=9)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def embedding_map(points, labels, class_labels, title: str,
                  axis: str = "UMAP dimension"):
    """A 2-D map of codes (e.g. from UMAP), one dot per image coloured by its true label; the
    axes are named ``axis`` 1 and 2 (their units are arbitrary, so they carry no ticks)."""
    points, labels = np.asarray(points), np.asarray(labels)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    colours = plt.get_cmap("tab10")
    for label, name in enumerate(class_labels):
        p = points[labels == label]
        ax.scatter(p[:, 0], p[:, 1], s=1, alpha=0.5, color=colours(label), rasterized=True)
        ax.annotate(name, np.median(p, axis=0), fontsize=10, weight="bold", ha="center",
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", alpha=0.7, lw=0))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set(xlabel=f"{axis} 1", ylabel=f"{axis} 2")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
