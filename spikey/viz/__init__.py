"""Plots of spiking networks, training runs and GA runs (matplotlib only).

Every plotting function takes an optional ``ax`` and returns the Axes it drew
on (multi-panel ones return the Figure); nothing here needs a display. The
counting and smoothing behind each plot is exposed as plain functions
(:func:`population_rates`, :func:`count_transitions`, ...) so a plot's data can
be checked or reused without drawing. See ``spikey/viz/README.md``.
"""

from spikey.viz._common import moving_average
from spikey.viz.activity import (delay_embedding, firing_rates, population_rates, raster,
                                 state_traces)
from spikey.viz.evolution import fitness_over_generations, gene_distribution, gene_over_generations
from spikey.viz.graph import graph_layers, layered_layout, network_graph, ring_layout
from spikey.viz.learning import learning_curve, smoothed_curves
from spikey.viz.overview import network_overview
from spikey.viz.transitions import (count_state_actions, count_transitions, state_action_counts,
                                    transition_counts)
from spikey.viz.weights import weight_histogram_counts, weight_histograms, weight_matrix

__all__ = [
    "raster", "firing_rates", "population_rates", "state_traces", "delay_embedding",
    "weight_matrix", "weight_histograms", "weight_histogram_counts",
    "learning_curve", "smoothed_curves",
    "transition_counts", "state_action_counts", "count_transitions", "count_state_actions",
    "network_graph", "layered_layout", "ring_layout", "graph_layers",
    "fitness_over_generations", "gene_distribution", "gene_over_generations",
    "network_overview", "moving_average",
]
