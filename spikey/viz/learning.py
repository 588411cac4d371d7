"""Learning curves from a training loop's episodes table.

Each *curve* is one member's (one seed's) metric per episode, smoothed by a
trailing moving average over ``window`` episodes; the plot shows the mean of
the curves with a band of their spread (min-max or mean ± std).
"""

from __future__ import annotations

import numpy as np

from spikey.viz._common import axis_label, integer_ticks, moving_average, new_axes

BANDS = ("minmax", "std", None)


def smoothed_curves(episodes, metric: str = "return", phase="train", *, window: int = 1,
                    curves=None):
    """One smoothed curve per member (per run and member, for several runs).

    Parameters
    ----------
    episodes : pandas.DataFrame
        The episodes table (:func:`spikey.training.train` ``.episodes``,
        ``metrics/episodes.csv`` or :func:`spikey.training.load_runs`).
    metric : str
        Column to plot, e.g. ``'return'``, ``'mean_reward'``, ``'weight_mean'``.
    phase : str or None
        Rows of this phase only (None: every row).
    window : int
        Trailing moving-average window in episodes.
    curves : list of str, optional
        Columns that name one curve; default those of ``'run'`` and ``'member'``
        present.

    Returns
    -------
    pandas.DataFrame
        Index: episode; one column per curve; NaN where a curve has no episode.
    """
    if metric not in episodes.columns:
        raise ValueError(f"metric {metric!r} is not a column; columns: {list(episodes.columns)}")
    rows = episodes
    if phase is not None and "phase" in episodes.columns:
        rows = episodes[episodes["phase"] == phase]
        if rows.empty:
            raise ValueError(f"no rows of phase {phase!r}; phases: "
                             f"{sorted(episodes['phase'].unique())}")
    if curves is None:
        curves = [c for c in ("run", "member") if c in rows.columns]
    table = rows.pivot_table(index="episode", columns=list(curves) or None, values=metric,
                             aggfunc="mean") if curves else \
        rows.groupby("episode")[[metric]].mean()
    table = table.sort_index()
    smoothed = moving_average(table.to_numpy(dtype=float), window, axis=0)
    return type(table)(smoothed, index=table.index, columns=table.columns)


def _curve_noun(table, n: int) -> str:
    """What one curve of a smoothed table is: members, runs, or run members."""
    names = [c for c in (table.columns.names or []) if c is not None]
    if "run" in names and len(names) > 1 and \
            table.columns.get_level_values("run").nunique() == 1:
        names = [c for c in names if c != "run"]  # one run: its curves are its members
    if names == ["member"]:
        return "members" if n > 1 else "member"
    if names == ["run"]:
        return "runs" if n > 1 else "run"
    return "curves (run x member)" if n > 1 else "curve"


def learning_curve(episodes, ax=None, phase="train", *, metric: str = "return", window: int = 1,
                   band="minmax", curves=None, hue=None, label=None, baselines=None):
    """Mean learning curve over members/seeds with a band of their spread.

    Parameters
    ----------
    episodes : pandas.DataFrame
        The episodes table (see :func:`smoothed_curves`).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    phase : str or None
        Rows of this phase (``'train'``, ``'eval'``); None: every row.
    metric : str
        Column to plot.
    window : int
        Trailing moving-average window in episodes, applied to each curve
        before the mean and band.
    band : {'minmax', 'std', None}
        Spread drawn around the mean: min to max of the curves, mean ± their
        standard deviation, or none.
    curves : list of str, optional
        Columns that name one curve (default ``'run'`` and ``'member'`` where present).
    hue : str, optional
        Column splitting the rows into conditions, one mean line and band each
        (e.g. ``'run'`` or a config column of :func:`spikey.training.load_runs`).
    label : str, optional
        Legend label of the mean line (without ``hue``).
    baselines : dict, optional
        ``{label: value}`` drawn as dashed horizontal lines, e.g. the mean return
        of a random policy (:func:`spikey.training.baselines.random_policy_returns`)
        or a task's threshold.

    Returns
    -------
    matplotlib.axes.Axes
        Per condition a line (y-data the mean of the smoothed curves) and, with
        a band, a filled region. The legend names what the band spans and over
        how many curves (``'min-max over n = 4 members'``); the y label is the
        metric in words (``'episode return'``); episode ticks are integers.

    Examples
    --------
    >>> result = train(config)                                     # doctest: +SKIP
    >>> ax = learning_curve(result.episodes, window=10, band="std")  # doctest: +SKIP
    """
    if band not in BANDS:
        raise ValueError(f"band = {band!r}; expected one of {BANDS}")
    ax = new_axes(ax, (6.0, 3.5))
    groups = [(label, episodes)] if hue is None else list(episodes.groupby(hue, sort=True))
    words = axis_label(metric).split(" (")[0]
    described = set()
    for i, (name, rows) in enumerate(groups):
        table = smoothed_curves(rows, metric, phase, window=window, curves=curves)
        values = table.to_numpy()
        x = table.index.to_numpy()
        mean = np.nanmean(values, axis=1)
        n = values.shape[1]
        noun = _curve_noun(table, n)
        if name is None:
            name = (f"{phase} " if phase else "") + (f"mean {words} of {n} {noun}" if n > 1
                                                     else words)
        elif hue is not None:
            name = f"{hue} = {name} (mean of {n} {noun})"
        color = f"C{i}"
        ax.plot(x, mean, marker="o" if len(x) <= 30 else None, markersize=3, color=color,
                label=name)
        if band is not None and n > 1:
            if band == "minmax":
                low, high = np.nanmin(values, axis=1), np.nanmax(values, axis=1)
                what = "band: min-max"
            else:
                spread = np.nanstd(values, axis=1)
                low, high = mean - spread, mean + spread
                what = "band: mean ± std"
            text = f"{what} over n = {n} {noun}"
            # conditions whose bands mean the same share one legend entry
            ax.fill_between(x, low, high, color=color, alpha=0.22, linewidth=0,
                            label=None if text in described else text)
            described.add(text)
    for j, (name, value) in enumerate((baselines or {}).items()):
        ax.axhline(float(value), color="0.35", linestyle=("--", ":", "-.")[j % 3], linewidth=1.2,
                   label=f"{name} ({float(value):.4g})")
    integer_ticks(ax.xaxis)
    ax.set_xlabel("episode")
    ax.set_ylabel(axis_label(metric, suffix=f", {window}-episode mean" if window > 1 else ""))
    ax.legend(loc="best", fontsize="small")
    return ax
