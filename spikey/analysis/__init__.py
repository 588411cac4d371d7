"""Analysis of recorded activity and of network structure (pure functions on arrays)."""

from spikey.analysis.connectivity import (block_density, clustering_coefficient, in_degree,
                                          out_degree)
from spikey.analysis.criticality import (REGIMES, assess_criticality, avalanches, branching_ratio, branching_ratio_ci,
                                         classify, compare_power_law, fano_factor, firing_rate,
                                         fit_exponential, fit_lognormal, fit_power_law,
                                         hurwitz_zeta, isi_cv, population_counts,
                                         power_law_tests, regime, sample_power_law, summary)

__all__ = ["REGIMES", "assess_criticality", "avalanches", "block_density", "branching_ratio", "branching_ratio_ci",
           "classify", "clustering_coefficient", "compare_power_law", "fano_factor",
           "firing_rate", "fit_exponential", "fit_lognormal", "fit_power_law", "hurwitz_zeta",
           "in_degree", "isi_cv", "out_degree", "population_counts", "power_law_tests", "regime",
           "sample_power_law", "summary"]
