"""Plots of a GA run's history (matplotlib; each returns the Axes it drew)."""

from __future__ import annotations


def fitness_over_generations(history, ax=None):
    """Best, mean and worst fitness per generation."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    grouped = history.groupby("generation")["fitness"]
    ax.plot(grouped.max().index, grouped.max().values, label="best")
    ax.plot(grouped.mean().index, grouped.mean().values, label="mean")
    ax.fill_between(grouped.min().index, grouped.min().values, grouped.max().values, alpha=0.2)
    ax.set_xlabel("generation")
    ax.set_ylabel("fitness")
    ax.legend(loc="best")
    return ax


def gene_distribution(history, gene: str, ax=None, generations=None):
    """Histogram of one gene's values, one curve per chosen generation."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    gens = sorted(history["generation"].unique())
    if generations is None:
        generations = sorted({gens[0], gens[len(gens) // 2], gens[-1]})
    for g in generations:
        ax.hist(history.loc[history.generation == g, gene], bins=20, histtype="step",
                label=f"generation {g}")
    ax.set_xlabel(gene)
    ax.set_ylabel("individuals")
    ax.legend(loc="best")
    return ax
