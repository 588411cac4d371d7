"""Analysis of recorded activity and of network structure (pure functions on arrays)."""

from spikey.analysis.connectivity import (block_density, clustering_coefficient, in_degree,
                                          out_degree)
from spikey.analysis.criticality import (REGIMES, avalanches, branching_ratio, classify,
                                         fano_factor, firing_rate, fit_power_law, hurwitz_zeta,
                                         isi_cv, population_counts, regime, summary)

__all__ = ["REGIMES", "avalanches", "block_density", "branching_ratio", "classify",
           "clustering_coefficient", "fano_factor", "firing_rate", "fit_power_law", "hurwitz_zeta",
           "in_degree", "isi_cv", "out_degree", "population_counts", "regime", "summary"]
