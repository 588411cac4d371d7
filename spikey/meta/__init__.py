"""Meta layer: a genetic algorithm and series sweeps over configurations."""

from spikey.meta.genotype import Gene, GeneSpace
from spikey.meta.metagames import EvolveNetwork, NQueens
from spikey.meta.population import GA_KEYS, Population
from spikey.meta.series import run_series

__all__ = ["Gene", "GeneSpace", "Population", "GA_KEYS", "NQueens", "EvolveNetwork", "run_series"]
