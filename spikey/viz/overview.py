"""Several views of one network in one figure."""

from __future__ import annotations

from spikey.viz.activity import firing_rates, raster
from spikey.viz.weights import weight_matrix


def network_overview(network, member: int = 0, *, window=None, rate_window: int = 10,
                     figsize=(11.0, 6.0)):
    """Raster and population rates of the last tick beside the weight matrix.

    Parameters
    ----------
    network : Network
        The network, after a tick.
    member : int
        Batch member.
    window : (start, stop), optional
        Steps of the tick to show.
    rate_window : int
        Smoothing window of the rates, in steps.
    figsize : (float, float)
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Axes in order: raster, rates (sharing the raster's x axis), weights
        (then the weights' colour bar).

    Examples
    --------
    >>> fig = network_overview(net)        # doctest: +SKIP
    >>> fig.savefig("overview.png")        # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize, layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=(2.2, 1.0), width_ratios=(1.6, 1.0))
    top = fig.add_subplot(grid[0, 0])
    bottom = fig.add_subplot(grid[1, 0], sharex=top)
    right = fig.add_subplot(grid[:, 1])
    raster(network, member, top, window=window)
    top.set_xlabel("")
    top.tick_params(labelbottom=False)
    firing_rates(network, member, bottom, window=rate_window)
    if window is not None:
        bottom.set_xlim(top.get_xlim())
    weight_matrix(network, member, right)
    fig.suptitle(f"member {member}, last tick")
    return fig
