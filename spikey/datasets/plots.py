"""Figures for classification: learned receptive fields and confusion matrices.

Nothing here imports :mod:`matplotlib.pyplot` at module level.
"""

from __future__ import annotations

import numpy as np


def plot_receptive_fields(weights, image_shape, labels=None, class_names=None, n_columns=10,
                          max_fields=100, title="Learned receptive fields", unit="mV"):
    """Draw each neuron's input weights as an image (its receptive field).

    Parameters
    ----------
    weights : array_like
        ``(n_pixels, K)`` weights from the pixels (rows) onto ``K`` neurons (columns), e.g.
        ``network.weights.matrix[0, :n_inputs, :K]``.
    image_shape : tuple of int
        ``(height, width)``; ``height * width == n_pixels``.
    labels : array_like, optional
        ``(K,)`` class assigned to each neuron (``-1``: none), written above its image.
    class_names : list of str, optional
        Names of the classes (default: the class numbers).
    n_columns : int
        Images per row.
    max_fields : int
        Draw at most this many neurons (the first ones).
    title : str
        Figure title.
    unit : str
        Unit of the weights, for the colour bar.

    Returns
    -------
    matplotlib.figure.Figure
        The figure: one grey-scale image per neuron on a shared colour scale.
    """
    import matplotlib.pyplot as plt

    weights = np.asarray(weights, dtype=np.float64)
    h, w = image_shape
    if weights.ndim != 2 or weights.shape[0] != h * w:
        raise ValueError(f"plot_receptive_fields: weights {weights.shape}; expected "
                         f"({h * w}, K) for {h}x{w} images")
    K = min(weights.shape[1], max_fields)
    columns = min(n_columns, K)
    rows = int(np.ceil(K / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.1 * columns + 1.2, 1.25 * rows + 0.6),
                             layout="constrained", squeeze=False)
    vmax = weights[:, :K].max() if K else 1.0
    image = None
    for k, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= K:
            ax.axis("off")
            continue
        image = ax.imshow(weights[:, k].reshape(h, w), cmap="gray_r", vmin=0.0, vmax=vmax)
        if labels is not None:
            c = int(labels[k])
            name = "none" if c < 0 else (class_names[c] if class_names is not None else str(c))
            ax.set_title(f"class {name}", fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.6, label=f"weight ({unit})")
    shown = f"{K} of {weights.shape[1]} neurons" if K < weights.shape[1] else f"{K} neurons"
    fig.suptitle(f"{title} ({shown})")
    return fig


def plot_confusion(matrix, class_names=None, title="Confusion matrix", ax=None):
    """Draw a confusion matrix with the count in every cell.

    Parameters
    ----------
    matrix : array_like
        ``(C, C)`` or ``(C, C + 1)`` counts from `spikey.datasets.evaluate.confusion_matrix`
        (rows: true class, columns: answer; an extra last column counts samples without an
        answer and is drawn only when it is not all zero).
    class_names : list of str, optional
        Names of the classes (default: the class numbers).
    title : str
        Axes title; the accuracy is appended.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The axes.
    """
    import matplotlib.pyplot as plt

    matrix = np.asarray(matrix)
    C = matrix.shape[0]
    if matrix.ndim != 2 or matrix.shape[1] not in (C, C + 1):
        raise ValueError(f"plot_confusion: matrix {matrix.shape}; expected (C, C) or (C, C + 1)")
    if matrix.shape[1] == C + 1 and not matrix[:, C].any():
        matrix = matrix[:, :C]
    names = [str(c) for c in range(C)] if class_names is None else list(class_names)
    columns = names + (["no answer"] if matrix.shape[1] == C + 1 else [])
    if ax is None:
        _, ax = plt.subplots(figsize=(0.5 * len(columns) + 2.5, 0.5 * C + 1.8), layout="constrained")
    image = ax.imshow(matrix, cmap="Blues", vmin=0)
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(C):
        for j in range(matrix.shape[1]):
            if matrix[i, j]:
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if matrix[i, j] > threshold else "black")
    ax.set_xticks(range(len(columns)), columns, rotation=45 if max(map(len, columns)) > 2 else 0,
                  ha="right" if max(map(len, columns)) > 2 else "center")
    ax.set_yticks(range(C), names)
    ax.set_xlabel("answer")
    ax.set_ylabel("true class")
    total = matrix.sum()
    correct = np.trace(matrix[:, :C])
    ax.set_title(f"{title}: {correct} of {total} right ({100 * correct / max(total, 1):.1f} %)")
    ax.figure.colorbar(image, ax=ax, shrink=0.8, label="samples")
    return ax
