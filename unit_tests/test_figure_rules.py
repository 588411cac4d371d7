"""Figure rules, checked on the artists the library draws (issue 18).

Every default figure must be fit to publish without relabelling: time axes in
ms, units on axes and colour bars, labels in words (no internal paths such as
``neurons.potential``), integer ticks for counts and steps, legends that say
what a band spans and over how many curves, baselines on learning curves, every
raster row inside the axes, and titles that name the run (never ``rank_0``).
"""

import os
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

import spikey  # noqa: E402
from spikey import viz  # noqa: E402
from spikey.viz._common import axis_label, words_and_unit  # noqa: E402
from conftest import build_small_config  # noqa: E402

INTERNAL = re.compile(r"\b[a-z_]+\.[a-z_]+\b")  # a dotted path such as neurons.potential


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def half_ms_network():
    """One member ticked twice at dt = 0.5 ms, with monitors of potential and weights."""
    config = build_small_config(network={"processing_steps": 40, "dt": 0.5},
                                inputs={"rate_map": [0.0, 400.0]},
                                weights={"low": 0.0, "high": 8.0, "density": 0.6},
                                readout={"n_outputs": 2})
    net = spikey.Network.from_config(config)
    monitors = {"potential": net.add_monitor("neurons.potential"),
                "weights": net.add_monitor("weights.matrix", 20)}
    for _ in range(2):
        net.tick(np.array([[1, 1]]))
        net.reward(info={"expected": np.array([1])})
    assert net.tick_spikes.any()
    return net, monitors


def labels_of(fig):
    """Every axis label, colour-bar label, title and legend text of a figure."""
    texts = []
    for ax in fig.axes:
        texts += [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()]
        legend = ax.get_legend()
        if legend is not None:
            texts += [t.get_text() for t in legend.get_texts()]
    return [t for t in texts if t]


def assert_published(fig):
    """The rules any figure obeys: words not paths, no bare 'step' axes, no worker titles."""
    for text in labels_of(fig):
        assert not INTERNAL.search(text.replace("e.g.", "")), f"internal path in {text!r}"
        assert text.strip() not in ("step", "t", "weight", "count", "state"), \
            f"label {text!r} has no unit or words"
        assert not re.fullmatch(r"rank_\d+", text.strip()), f"title {text!r} names a worker"


def is_integer_locator(axis):
    locator = axis.get_major_locator()
    return isinstance(locator, MaxNLocator) and locator._integer


def colorbar_axes(ax):
    return [other for other in ax.figure.axes if other is not ax]


# ---------------------------------------------------------------- labels in words
def test_internal_paths_become_words_with_units():
    assert words_and_unit("neurons.potential") == ("membrane potential", "mV")
    assert axis_label("neurons.potential") == "membrane potential (mV)"
    assert axis_label("network.neurons.threshold") == "firing threshold (mV)"
    assert axis_label("network.synapses.tau_z") == "eligibility time constant (ms)"
    assert axis_label("weights.matrix") == "synaptic weight (mV)"
    assert axis_label("return", suffix=", 10-episode mean") == "episode return (10-episode mean)"
    # not in the table: words, and the unit the parts' key descriptions agree on
    assert axis_label("network.neurons.spontaneous_rate") == "spontaneous rate (Hz)"
    words, unit = words_and_unit("network.synapses.made_up_key")
    assert words == "synapses: made up key" and unit == ""


# ---------------------------------------------------------------- activity
def test_raster_time_in_ms_integer_rows_and_no_clipped_row(half_ms_network):
    net, _ = half_ms_network
    ax = viz.raster(net)
    assert ax.get_xlabel() == "time (ms)"
    rows = net.n_inputs + net.n_neurons
    low, high = ax.get_ylim()
    assert low <= -0.5 and high >= rows - 0.5  # every row, drawn whole
    assert is_integer_locator(ax.yaxis)
    body = ax.collections[1]
    t, k = np.nonzero(net.tick_spikes[0, :, :-2])
    np.testing.assert_allclose(body.get_offsets(), np.column_stack([t * 0.5, k + net.n_inputs]))
    assert ax.get_xlim() == (-0.25, 19.75)  # steps 0..39 at 0.5 ms
    ax = viz.raster(net, window=(10, 30))
    assert ax.get_xlim() == (4.75, 14.75)
    assert_published(ax.figure)


def test_rates_and_traces_in_ms_with_units(half_ms_network):
    net, monitors = half_ms_network
    ax = viz.firing_rates(net, window=10)
    assert ax.get_xlabel() == "time (ms)"
    assert ax.get_ylabel() == "population rate (Hz, 5 ms mean)"
    np.testing.assert_allclose(ax.lines[0].get_xdata(), np.arange(40) * 0.5)
    assert_published(ax.figure)

    ax = viz.state_traces(monitors["potential"], [0, 3], threshold=True)
    assert ax.get_xlabel() == "time (ms)" and ax.get_ylabel() == "membrane potential (mV)"
    np.testing.assert_allclose(ax.lines[0].get_xdata(), np.asarray(monitors["potential"].steps)
                               * 0.5)
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == ["neuron 0", "neuron 3"]
    assert_published(ax.figure)

    ax = viz.delay_embedding(np.sin(np.arange(50) / 5.0), tau=4, label="body rate", unit="Hz",
                             dt=0.5)
    assert ax.get_xlabel() == "body rate at t - 2 ms (Hz)"
    assert colorbar_axes(ax)[0].get_ylabel() == "time (ms)"


# ---------------------------------------------------------------- weights
def test_weight_plots_have_units_and_integer_counts(half_ms_network):
    net, monitors = half_ms_network
    ax = viz.weight_matrix(net)
    (bar,) = colorbar_axes(ax)
    assert bar.get_ylabel() == "synaptic weight (mV)"
    assert is_integer_locator(ax.xaxis) and is_integer_locator(ax.yaxis)
    assert_published(ax.figure)

    ax = viz.weight_histograms(monitors["weights"], bins=8)
    assert ax.get_xlabel() == "time (ms)" and ax.get_ylabel() == "synaptic weight (mV)"
    (bar,) = colorbar_axes(ax)
    assert bar.get_ylabel() == "synapses (count)" and is_integer_locator(bar.yaxis)
    # snapshots every 20 steps at 0.5 ms: columns centred on 0, 10, 20, ... ms
    mesh = ax.collections[0]
    edges = np.unique(mesh.get_coordinates()[..., 0])
    np.testing.assert_allclose((edges[1:] + edges[:-1]) / 2,
                               np.asarray(monitors["weights"].steps) * 0.5)
    ax = viz.weight_histograms([net.weights.matrix, net.weights.matrix])
    assert ax.get_xlabel() == "snapshot" and is_integer_locator(ax.xaxis)


# ---------------------------------------------------------------- learning curves and the GA
def episodes_table(members=4, episodes=12):
    rng = np.random.default_rng(0)
    return pd.DataFrame([{"episode": e, "member": m, "phase": "train",
                          "return": float(e + rng.normal())}
                         for e in range(episodes) for m in range(members)])


def test_learning_curve_legend_names_the_band_and_its_members():
    ax = viz.learning_curve(episodes_table(), window=3, baselines={"random policy": 2.5})
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["train mean episode return of 4 members",
                     "band: min-max over n = 4 members", "random policy (2.5)"]
    assert ax.get_ylabel() == "episode return (3-episode mean)"
    assert is_integer_locator(ax.xaxis)
    (baseline,) = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert list(baseline.get_ydata()) == [2.5, 2.5]
    ax = viz.learning_curve(episodes_table(), band="std", metric="return")
    assert "band: mean ± std over n = 4 members" in [t.get_text() for t in
                                                     ax.get_legend().get_texts()]
    two = pd.concat([episodes_table().assign(run="a"), episodes_table().assign(run="b")])
    ax = viz.learning_curve(two)
    assert "band: min-max over n = 8 curves (run x member)" in \
        [t.get_text() for t in ax.get_legend().get_texts()]
    assert_published(ax.figure)
    # conditions: one line each, and one legend entry for bands that mean the same
    ax = viz.learning_curve(pd.concat([two, episodes_table(members=2).assign(run="c")]),
                            hue="run")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "run = a (mean of 4 members)", "band: min-max over n = 4 members",
        "run = b (mean of 4 members)", "run = c (mean of 2 members)",
        "band: min-max over n = 2 members"]


def test_ga_plots_name_genes_in_words():
    rng = np.random.default_rng(1)
    history = pd.DataFrame({"generation": np.repeat(np.arange(4), 6),
                            "fitness": rng.random(24),
                            "network.neurons.threshold": rng.uniform(10, 20, 24)})
    ax = viz.fitness_over_generations(history)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "band: worst to best of n = 6 individuals" in texts
    assert is_integer_locator(ax.xaxis)
    ax = viz.gene_distribution(history, "network.neurons.threshold")
    assert ax.get_xlabel() == "firing threshold (mV)"
    assert ax.get_ylabel() == "individuals (count)" and is_integer_locator(ax.yaxis)
    assert_published(ax.figure)
    ax = viz.gene_over_generations(history, "network.neurons.threshold")
    assert ax.get_ylabel() == "firing threshold (mV)" and is_integer_locator(ax.xaxis)
    assert_published(ax.figure)


def test_count_heatmaps_have_integer_colour_bars():
    ax = viz.transition_counts(np.array([0, 1, 1, 2, 0, 1]))
    (bar,) = colorbar_axes(ax)
    assert bar.get_ylabel() == "ticks (count)" and is_integer_locator(bar.yaxis)


# ---------------------------------------------------------------- run folders
def test_run_titles_name_the_run_not_the_worker():
    from spikey.training.plots import run_title

    game = {"game": {"id": "CartPole-v1"}}
    assert run_title(os.path.join("out", "cartpole_seed3", "rank_0"), game) == \
        "CartPole-v1: cartpole_seed3 (worker rank_0)"
    assert run_title(os.path.join("out", "sweep", "trial_1", "checkpoint_000002", "rank_0"),
                     game) == "CartPole-v1: trial_1 (worker rank_0)"
    assert run_title(os.path.join("out", "xor_run"), {}) == "xor_run"


def test_plot_run_figures_obey_the_rules(tmp_path, monkeypatch):
    from spikey.training import load_config, train
    from spikey.training.config import set_path
    from spikey.training.plots import plot_run

    config = load_config(os.path.join(os.path.dirname(__file__), "..", "examples", "configs",
                                      "xor.yaml"))
    set_path(config, "network.network.processing_steps", 40)
    set_path(config, "network.network.batch_size", 2)
    set_path(config, "game.kwargs.n_presentations", 6)
    config["training"].update(episodes=3, max_ticks=6, eval_episodes=1, checkpoint_every=1)
    run_dir = tmp_path / "xor_seed0" / "rank_0"  # a Ray worker's folder name
    train(config, run_dir=run_dir)
    monkeypatch.setattr(plt, "close", lambda *args: None)  # keep the figures to inspect
    paths = plot_run(run_dir, out=tmp_path / "plots")
    assert [os.path.basename(p) for p in paths] == ["learning_curve.png", "raster.png",
                                                    "weights.png"]
    curve, raster, weights = (plt.figure(n) for n in plt.get_fignums()[-3:])
    for fig in (curve, raster, weights):
        title = fig.axes[0].get_title()
        assert title.startswith(f"{config['game']['id']}: xor_seed0 (worker rank_0)"), title
        assert_published(fig)
    texts = [t.get_text() for t in curve.axes[0].get_legend().get_texts()]
    assert any(t.startswith("random policy (") for t in texts), texts
    assert any(t.startswith("band: min-max over n = 2 members") for t in texts), texts
    assert raster.axes[0].get_xlabel() == "time (ms)"


def test_raster_markers_of_the_edge_rows_stay_inside_the_axes():
    spikes = np.zeros((50, 200), dtype=bool)
    spikes[10, [0, 199]] = True  # the first and the last row
    ax = viz.raster(spikes)
    (collection,) = ax.collections
    half_pt = np.sqrt(collection.get_sizes()[0]) / 2.0
    points_per_row = ax.bbox.height * 72.0 / ax.figure.dpi / np.ptp(ax.get_ylim())
    low, high = ax.get_ylim()
    assert low <= 0 - half_pt / points_per_row + 1e-9
    assert high >= 199 + half_pt / points_per_row - 1e-9
