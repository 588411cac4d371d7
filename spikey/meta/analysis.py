"""Plots of a GA run's history; they live in :mod:`spikey.viz.evolution`, re-exported here."""

from spikey.viz.evolution import fitness_over_generations, gene_distribution, gene_over_generations

__all__ = ["fitness_over_generations", "gene_distribution", "gene_over_generations"]
