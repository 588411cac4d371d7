"""Synaptic weights: one member's matrix as a heatmap, and weight histograms over time.

Weight matrices are ``(n_inputs + n_neurons, n_neurons)`` per member: row ``j``
is presynaptic neuron ``j`` (inputs first), column ``k`` body neuron ``k``.
"""

from __future__ import annotations

import numpy as np

from spikey.viz._common import (TIME_LABEL, axis_label, integer_ticks, member_of, member_weights,
                                new_axes)


def _matrix_and_mask(source, member, mask):
    n_inputs = None
    if hasattr(source, "parts"):  # a Network
        weights = source.parts["weights"]
        n_inputs = source.n_inputs
        matrix, present = member_weights(weights, member)
        mask = present if mask is None else member_of(mask, member, 2)
    else:
        matrix = member_of(source, member, 2)
        mask = None if mask is None else member_of(mask, member, 2)
    return np.asarray(matrix, dtype=float), mask, n_inputs


def weight_matrix(network, member: int = 0, ax=None, *, mask=None, n_inputs=None,
                  cmap: str = "viridis", colorbar: bool = True, label=None):
    """Heatmap of one member's weights; synapses that do not exist are masked.

    Parameters
    ----------
    network : Network or array_like
        A Network (``weights.matrix`` and ``weights.mask``) or weights
        ``(B, P, N)`` / ``(P, N)``.
    member : int
        Batch member.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    mask : array_like of bool, optional
        Which synapses exist (default: the network's mask; all for an array).
    n_inputs : int, optional
        Rows that are inputs, marked off by a line (a Network knows its own).
    cmap : str
        Colour map of the weights; absent synapses are left light grey.
    colorbar : bool
        Add a colour bar.
    label : str, optional
        Colour-bar label; default ``'synaptic weight (mV)'``.

    Returns
    -------
    matplotlib.axes.Axes
        Its one image holds the masked ``(P, N)`` matrix (``get_array()``).

    Examples
    --------
    >>> ax = weight_matrix(net, member=3)   # doctest: +SKIP
    """
    matrix, mask, own_inputs = _matrix_and_mask(network, member, mask)
    n_inputs = own_inputs if n_inputs is None else n_inputs
    shown = np.ma.masked_array(matrix, mask=None if mask is None else ~np.asarray(mask, bool))
    ax = new_axes(ax, (5.5, 5.0))
    import matplotlib

    colors = matplotlib.colormaps[cmap].with_extremes(bad="0.92")
    image = ax.imshow(shown, cmap=colors, aspect="auto", interpolation="nearest")
    if n_inputs:
        ax.axhline(n_inputs - 0.5, color="tab:red", linewidth=0.8)
        rows = matrix.shape[0]
        for name, middle in (("inputs", n_inputs / 2), ("body", (n_inputs + rows) / 2)):
            # image row 0 is at the top of the axes
            ax.annotate(name, (1.01, 1.0 - middle / rows), xycoords="axes fraction",
                        fontsize="small", va="center", rotation=90, color="tab:red",
                        annotation_clip=False)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=label or axis_label("weights.matrix"), pad=0.06)
    ax.set_xlabel("postsynaptic neuron")
    integer_ticks(ax.xaxis)
    integer_ticks(ax.yaxis)
    ax.set_ylabel("presynaptic neuron (inputs, then body)" if n_inputs else "presynaptic neuron")
    return ax


def weight_histogram_counts(snapshots, member: int = 0, *, mask=None, bins=30, limits=None):
    """Histogram of the weights of each snapshot.

    Parameters
    ----------
    snapshots : Monitor, sequence or array_like
        A Monitor of ``'weights.matrix'``, a list of matrices, or an array
        ``(S, P, N)`` (one member) / ``(B, S, P, N)``. A list of ``(B, P, N)``
        matrices is stacked into the latter.
    member : int
        Batch member.
    mask : array_like of bool, optional
        Synapses counted; default the monitored network's mask, else all entries.
    bins : int
        Number of equal bins over ``limits``.
    limits : (low, high), optional
        Default: the smallest and largest weight counted.

    Returns
    -------
    counts : numpy.ndarray
        ``(S, bins)`` synapses per bin and snapshot.
    edges : numpy.ndarray
        ``(bins + 1,)`` bin edges.
    steps : numpy.ndarray
        ``(S,)`` step of each snapshot (``monitor.steps``, else 0..S-1).
    """
    if hasattr(snapshots, "records"):
        data = member_of(snapshots.data, member, 3)
        steps = np.asarray(snapshots.steps)
        if mask is None:
            mask = snapshots.network.parts["weights"].mask
    else:
        if isinstance(snapshots, (list, tuple)):
            snapshots = np.stack([np.asarray(s) for s in snapshots],
                                 axis=1 if np.ndim(snapshots[0]) == 3 else 0)
        data = member_of(snapshots, member, 3)
        steps = np.arange(data.shape[0])
    data = np.asarray(data, dtype=float)
    if mask is not None:
        values = data[:, member_of(mask, member, 2).astype(bool)]
    else:
        values = data.reshape(data.shape[0], -1)
    if limits is None:
        limits = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        if limits[0] == limits[1]:
            limits = (limits[0] - 0.5, limits[1] + 0.5)
    edges = np.linspace(limits[0], limits[1], int(bins) + 1)
    counts = np.stack([np.histogram(row, bins=edges)[0] for row in values])
    return counts, edges, steps


def weight_histograms(snapshots, member: int = 0, ax=None, *, mask=None, bins: int = 30,
                      limits=None, colorbar: bool = True, dt=None):
    """Weight histograms over time: snapshot on x, weight on y, colour the count.

    Parameters
    ----------
    snapshots, member, mask, bins, limits
        As for :func:`weight_histogram_counts`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    colorbar : bool
        Add a colour bar of the counts (integer ticks).
    dt : float, optional
        Step in ms: a Monitor's snapshots are placed at time ``step * dt`` ms
        (default the monitored network's ``dt``); a list or array is drawn
        against its snapshot number.

    Returns
    -------
    matplotlib.axes.Axes
        Its one mesh (QuadMesh) holds the ``(bins, S)`` counts, i.e. the
        transposed counts of :func:`weight_histogram_counts`.

    Examples
    --------
    >>> monitor = net.add_monitor("weights.matrix", every=100)  # doctest: +SKIP
    >>> ...                                                      # train
    >>> ax = weight_histograms(monitor)                          # doctest: +SKIP
    """
    counts, edges, steps = weight_histogram_counts(snapshots, member, mask=mask, bins=bins,
                                                   limits=limits)
    ax = new_axes(ax, (7.0, 3.5))
    timed = hasattr(snapshots, "records")
    if timed:
        dt = float(dt if dt is not None else snapshots.network.dt)
        steps = np.asarray(steps, dtype=float) * dt
    # Column s spans from midway to the previous snapshot to midway to the next.
    if len(steps) > 1:
        middle = (steps[1:] + steps[:-1]) / 2.0
        x = np.concatenate([[2 * steps[0] - middle[0]], middle, [2 * steps[-1] - middle[-1]]])
    else:
        x = np.array([steps[0] - 0.5, steps[0] + 0.5]) if len(steps) else np.array([0.0, 1.0])
    mesh = ax.pcolormesh(x, edges, counts.T, cmap="magma_r", shading="flat", vmin=0)
    if colorbar:
        bar = ax.figure.colorbar(mesh, ax=ax, label="synapses (count)")
        integer_ticks(bar.ax.yaxis)
    ax.set_xlabel(TIME_LABEL if timed else "snapshot")
    if not timed:
        integer_ticks(ax.xaxis, 6)  # snapshot numbers
    ax.set_ylabel(axis_label("weights.matrix"))
    return ax
