"""A genetic algorithm's history: fitness per generation and gene distributions.

``history`` is :meth:`spikey.meta.Population.history`: one row per evaluated
individual with its ``generation``, ``fitness`` and one column per gene.
"""

from __future__ import annotations

import numpy as np

from spikey.viz._common import axis_label, integer_ticks, new_axes


def fitness_over_generations(history, ax=None):
    """Best and mean fitness per generation, with the band from worst to best.

    Parameters
    ----------
    history : pandas.DataFrame
        The GA history (columns ``generation`` and ``fitness``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
        Two lines (best, then mean fitness per generation) and the min-max band.

    Examples
    --------
    >>> ax = fitness_over_generations(population.history())   # doctest: +SKIP
    """
    ax = new_axes(ax, (6.0, 3.5))
    grouped = history.groupby("generation")["fitness"]
    best, mean, worst = grouped.max(), grouped.mean(), grouped.min()
    sizes = grouped.size()
    n = f"{sizes.iloc[0]}" if sizes.nunique() == 1 else f"{sizes.min()}-{sizes.max()}"
    ax.plot(best.index, best.values, label="best individual")
    ax.plot(mean.index, mean.values, label=f"mean of the generation (n = {n})")
    ax.fill_between(worst.index, worst.values, best.values, alpha=0.2,
                    label=f"band: worst to best of n = {n} individuals")
    integer_ticks(ax.xaxis)
    ax.set_xlabel("generation")
    ax.set_ylabel("fitness")
    ax.legend(loc="best")
    return ax


def _default_generations(history):
    gens = sorted(history["generation"].unique())
    return sorted({gens[0], gens[len(gens) // 2], gens[-1]})


def gene_distribution(history, gene: str, ax=None, generations=None, bins: int = 20):
    """Distribution of one gene's values, one outline histogram per chosen generation.

    Parameters
    ----------
    history : pandas.DataFrame
        The GA history.
    gene : str
        Gene column.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    generations : sequence of int, optional
        Generations to draw; default the first, middle and last.
    bins : int
        Histogram bins (shared by all generations) of a numeric gene; an
        integer gene spanning fewer values gets one bin per integer.

    Returns
    -------
    matplotlib.axes.Axes
        A numeric gene: one step-histogram patch per generation. A gene of
        choices (strings, ...): bars of the count of each value, one set per
        generation.

    Examples
    --------
    >>> ax = gene_distribution(history, "network.neurons.threshold")   # doctest: +SKIP
    """
    if gene not in history.columns:
        raise ValueError(f"gene {gene!r} is not a column of the history; columns: "
                         f"{list(history.columns)}")
    ax = new_axes(ax, (6.0, 3.5))
    if generations is None:
        generations = _default_generations(history)
    values = history[gene]
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    numeric = is_numeric_dtype(values) and not is_bool_dtype(values)
    if numeric:
        numbers = values.to_numpy(dtype=float)
        whole = np.all(numbers == np.round(numbers))
        if whole and numbers.max() - numbers.min() < bins:  # one bin per integer
            edges = np.arange(numbers.min(), numbers.max() + 2) - 0.5
        else:
            edges = np.histogram_bin_edges(numbers, bins=bins)
        for g in generations:
            ax.hist(history.loc[history.generation == g, gene], bins=edges, histtype="step",
                    linewidth=1.4, label=f"generation {g}")
    else:
        labels = sorted(values.astype(str).unique())
        width = 0.8 / len(generations)
        for i, g in enumerate(generations):
            chosen = values[history.generation == g].astype(str).value_counts()
            ax.bar(np.arange(len(labels)) + (i - (len(generations) - 1) / 2) * width,
                   [int(chosen.get(v, 0)) for v in labels], width=width,
                   label=f"generation {g}")
        ax.set_xticks(np.arange(len(labels)), labels)
    ax.set_xlabel(axis_label(gene))
    ax.set_ylabel("individuals (count)")
    integer_ticks(ax.yaxis)
    ax.legend(loc="best", fontsize="small")
    return ax


def gene_over_generations(history, gene: str, ax=None, *, colorbar: bool = True):
    """Every individual's gene value against its generation, coloured by fitness.

    Parameters
    ----------
    history : pandas.DataFrame
        The GA history.
    gene : str
        A numeric gene column.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    colorbar : bool
        Add a colour bar of fitness.

    Returns
    -------
    matplotlib.axes.Axes
        One scatter with a point per individual (x: generation, slightly
        jittered; y: gene value).
    """
    if gene not in history.columns:
        raise ValueError(f"gene {gene!r} is not a column of the history")
    ax = new_axes(ax, (6.0, 3.5))
    # deterministic jitter so individuals of one generation do not hide each other
    jitter = (np.arange(len(history)) * 0.618034) % 1.0 * 0.4 - 0.2
    points = ax.scatter(history["generation"].to_numpy() + jitter, history[gene], s=10,
                        c=history["fitness"], cmap="viridis")
    if colorbar:
        ax.figure.colorbar(points, ax=ax, label="fitness")
    ax.set_xlabel("generation")
    integer_ticks(ax.xaxis)
    ax.set_ylabel(axis_label(gene))
    return ax
