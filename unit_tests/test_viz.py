"""spikey.viz: each plot drawn on small data, its artists checked against the data."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import spikey  # noqa: E402
from spikey import viz  # noqa: E402
from conftest import build_small_config  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def ticked():
    """A 2-member network after two ticks, with monitors of potential, spikes and weights."""
    config = build_small_config(
        network={"processing_steps": 60, "batch_size": 2},
        inputs={"n_inputs": 6, "n_dims": 2, "rate_map": [0.0, 300.0]},
        neurons={"n_neurons": 10},
        weights={"low": 0.0, "high": 6.0, "density": 0.5},
        readout={"n_outputs": 2},
    )
    net = spikey.Network.from_config(config)
    monitors = {path: net.add_monitor(path, every) for path, every in
                (("neurons.potential", 1), ("spikes", 1), ("weights.matrix", 30))}
    for _ in range(2):
        net.tick(np.array([[1, 1], [1, 0]]))
        net.reward(info={"expected": np.array([1, 0])})
    assert net.tick_spikes.any() and net.tick_input_spikes.any()
    assert not net.weights.mask.all()
    return net, monitors


def scatter_count(collection):
    return len(collection.get_offsets())


def test_moving_average_matches_pandas_rolling():
    values = np.array([3.0, np.nan, 1.0, 4.0, 1.0, 5.0, np.nan, np.nan, 9.0, 2.0])
    series = pd.Series(values)
    for window in (1, 2, 3, 4):
        for centered in (False, True):
            expected = series.rolling(window, min_periods=1, center=centered).mean().to_numpy()
            np.testing.assert_allclose(viz.moving_average(values, window, centered=centered),
                                       expected)
    stacked = np.stack([values, values[::-1]], axis=1)
    np.testing.assert_allclose(viz.moving_average(stacked, 3, axis=0)[:, 1],
                               pd.Series(values[::-1]).rolling(3, min_periods=1).mean())
    with pytest.raises(ValueError, match="window = 0"):
        viz.moving_average(values, 0)


def test_raster_has_one_point_per_spike_in_group_colours(ticked):
    net, monitors = ticked
    ax = viz.raster(net, member=1)
    inputs, body, outputs = ax.collections
    assert [c.get_label() for c in ax.collections] == ["inputs", "body", "outputs"]
    assert scatter_count(inputs) == net.tick_input_spikes[1].sum()
    assert scatter_count(body) == net.tick_spikes[1, :, :-2].sum()
    assert scatter_count(outputs) == net.tick_spikes[1, :, -2:].sum()
    t, k = np.nonzero(net.tick_spikes[1, :, -2:])
    np.testing.assert_array_equal(outputs.get_offsets(), np.column_stack([t, k + 6 + 8]))
    ax = viz.raster(net, window=(10, 30))
    shown = sum(scatter_count(c) for c in ax.collections)
    assert shown == net.tick_input_spikes[0, 10:30].sum() + net.tick_spikes[0, 10:30].sum()
    assert ax.get_xlim() == (9.5, 29.5)
    # a bare array, and a Monitor of 'spikes' (both ticks, x = the monitor's steps)
    ax = viz.raster(net.tick_spikes, input_spikes=net.tick_input_spikes, n_outputs=2)
    assert sum(scatter_count(c) for c in ax.collections) == \
        net.tick_spikes[0].sum() + net.tick_input_spikes[0].sum()
    ax = viz.raster(monitors["spikes"], window=(60, None))
    assert [c.get_label() for c in ax.collections] == ["body", "outputs"]
    assert sum(scatter_count(c) for c in ax.collections) == net.tick_spikes[0].sum()


def test_firing_rates_are_smoothed_population_rates(ticked):
    net, _ = ticked
    ax = viz.firing_rates(net, window=5)
    assert [line.get_label() for line in ax.lines] == ["inputs", "body", "outputs"]
    body = net.tick_spikes[0, :, :8].sum(axis=1) / (8 * net.dt / 1000.0)
    expected = pd.Series(body).rolling(5, center=True, min_periods=1).mean()
    np.testing.assert_allclose(ax.lines[1].get_ydata(), expected)
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), np.arange(60))
    groups = {"first three": [0, 1, 2], "neuron 7": slice(13, 14)}
    ax = viz.firing_rates(net, member=1, groups=groups, window=1, dt=2.0)
    np.testing.assert_allclose(ax.lines[0].get_ydata(),
                               net.tick_input_spikes[1, :, :3].sum(axis=1) / 3 * 500.0)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), net.tick_spikes[1, :, 7] * 500.0)
    with pytest.raises(ValueError, match="selects no neurons"):
        viz.population_rates(net, groups={"none": []})


def test_state_traces_plot_the_monitored_records_and_threshold(ticked):
    net, monitors = ticked
    monitor = monitors["neurons.potential"]
    ax = viz.state_traces(monitor, [0, 4], member=1, threshold=True)
    assert len(ax.lines) == 3
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), monitor.steps)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), monitor.data[1, :, 4])
    assert ax.lines[2].get_ydata()[0] == net.neurons.config["threshold"]
    ax = viz.state_traces(monitors["weights.matrix"], [(0, 1), (7, 3)])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), monitors["weights.matrix"].data[0, :, 7, 3])
    ax = viz.state_traces(np.arange(12.0).reshape(4, 3), threshold=2.5)
    assert len(ax.lines) == 4 and list(ax.lines[2].get_ydata()) == [2.0, 5.0, 8.0, 11.0]
    with pytest.raises(ValueError, match="needs a Monitor"):
        viz.state_traces(np.zeros((4, 3)), threshold=True)


def test_weight_matrix_masks_absent_synapses(ticked):
    net, _ = ticked
    ax = viz.weight_matrix(net, member=1)
    shown = ax.images[0].get_array()
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), ~net.weights.mask[1])
    np.testing.assert_allclose(shown.data, net.weights.matrix[1])
    ax = viz.weight_matrix(net.weights.matrix[0], colorbar=False)
    assert not np.ma.getmaskarray(ax.images[0].get_array()).any()
    assert len(ax.figure.axes) == 1


def test_weight_histograms_count_each_snapshot(ticked):
    net, monitors = ticked
    monitor = monitors["weights.matrix"]
    ax = viz.weight_histograms(monitor, member=1, bins=8)
    counts = ax.collections[0].get_array().reshape(8, -1).T
    mask = net.weights.mask[1]
    values = monitor.data[1][:, mask]
    edges = np.linspace(values.min(), values.max(), 9)
    expected = np.stack([np.histogram(v, bins=edges)[0] for v in values])
    np.testing.assert_array_equal(counts, expected)
    assert counts.sum(axis=1).tolist() == [mask.sum()] * len(monitor.steps)
    # a list of (P, N) snapshots, every entry counted
    snapshots = [np.full((3, 2), 1.0), np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])]
    counts, edges, steps = viz.weight_histogram_counts(snapshots, bins=5)
    assert counts.tolist() == [[0, 6, 0, 0, 0], [1, 1, 1, 1, 2]]
    assert steps.tolist() == [0, 1]


def episodes_table():
    rng = np.random.default_rng(3)
    rows = [pd.DataFrame({"phase": "train", "episode": np.arange(12), "member": m, "seed": 10 + m,
                          "return": rng.normal(m, 1.0, 12)}) for m in range(3)]
    rows.append(pd.DataFrame({"phase": "eval", "episode": [0], "member": [0], "seed": [10],
                              "return": [100.0]}))
    return pd.concat(rows, ignore_index=True)


def test_learning_curve_mean_and_band_of_smoothed_member_curves():
    episodes = episodes_table()
    ax = viz.learning_curve(episodes, window=4)
    table = episodes[episodes.phase == "train"].pivot(index="episode", columns="member",
                                                      values="return")
    smooth = table.rolling(4, min_periods=1).mean()
    (line,) = ax.lines
    np.testing.assert_allclose(line.get_ydata(), smooth.mean(axis=1))
    band = ax.collections[0].get_paths()[0].vertices
    np.testing.assert_allclose(band[1:13, 1], smooth.min(axis=1))  # lower edge, left to right
    assert np.isclose(band[:, 1].max(), smooth.max(axis=1).max())
    ax = viz.learning_curve(episodes, band="std")
    band = ax.collections[0].get_paths()[0].vertices
    assert np.isclose(band[:, 1].max(), (table.mean(axis=1) + table.std(axis=1, ddof=0)).max())
    ax = viz.learning_curve(episodes, phase="eval", band=None)
    assert ax.lines[0].get_ydata().tolist() == [100.0] and not ax.collections
    two_runs = pd.concat([episodes.assign(run="a"), episodes.assign(run="b")])
    ax = viz.learning_curve(two_runs, hue="run", metric="return")
    assert [line.get_label() for line in ax.lines] == ["run = a (mean of 3 members)",
                                                     "run = b (mean of 3 members)"]
    with pytest.raises(ValueError, match="band"):
        viz.learning_curve(episodes, band="iqr")
    with pytest.raises(ValueError, match="no rows of phase 'test'"):
        viz.learning_curve(episodes, phase="test")


def test_transition_and_state_action_heatmaps_show_the_counts():
    ax = viz.transition_counts([0, 1, 1, 2, 0, 1], values=[0, 1, 2, 3])
    expected = np.zeros((4, 4), int)
    for a, b in [(0, 1), (1, 1), (1, 2), (2, 0), (0, 1)]:
        expected[a, b] += 1
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)
    assert [t.get_text() for t in ax.texts][:4] == ["0", "2", "0", "0"]
    # a ticks table: no transition across episode or member boundaries, rows in tick order
    ticks = pd.DataFrame({"phase": "train", "episode": [0, 0, 0, 1, 1, 0, 0],
                          "member": [0, 0, 0, 0, 0, 1, 1], "tick": [2, 0, 1, 0, 1, 0, 1],
                          "action": ["b", "a", "a", "b", "b", "a", "b"]})
    counts, values = viz.count_transitions(ticks, column="action")
    assert values.tolist() == ["a", "b"] and counts.tolist() == [[1, 2], [0, 1]]
    ax = viz.state_action_counts([0, 0, 1, 2, 2, 2], [1, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(ax.images[0].get_array(), [[0, 2], [1, 0], [1, 2]])
    ticks["state"] = [1, 0, 0, 1, 1, 0, 2]
    ax = viz.state_action_counts(ticks, annotate=False)
    np.testing.assert_array_equal(ax.images[0].get_array(), [[3, 0], [0, 3], [0, 1]])
    assert not ax.texts
    with pytest.raises(ValueError, match=r"values \[7\] are not among"):
        viz.count_transitions([0, 7], values=[0, 1])


def test_delay_embedding_pairs_each_value_with_its_past(ticked):
    signal = np.sin(np.arange(50) / 4.0)
    ax = viz.delay_embedding(signal, tau=3)
    np.testing.assert_allclose(ax.lines[0].get_xdata(), signal[:-3])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), signal[3:])
    assert scatter_count(ax.collections[0]) == 47
    _, rates = viz.population_rates(ticked[0], window=3)
    ax = viz.delay_embedding(rates["body"], tau=5, color_by_time=False)
    assert not ax.collections
    with pytest.raises(ValueError, match="tau = 50"):
        viz.delay_embedding(signal, tau=50)


def test_network_graph_draws_one_edge_per_synapse_and_highlights_spikes(ticked):
    net, _ = ticked
    step = int(np.argmax(net.tick_spikes[0].sum(axis=1) + net.tick_input_spikes[0].sum(axis=1)))
    for layout in ("layered", "ring"):
        ax = viz.network_graph(net, layout=layout, step=step)
        edges, *nodes, spiking = ax.collections
        assert len(edges.get_segments()) == net.weights.mask[0].sum()
        assert [scatter_count(c) for c in nodes] == [6, 8, 2]
        assert scatter_count(spiking) == \
            net.tick_spikes[0, step].sum() + net.tick_input_spikes[0, step].sum()
    ax = viz.network_graph(net, member=1, threshold=3.0, show_inputs=False)
    strong = net.weights.mask[1] & (net.weights.matrix[1] > 3.0)
    assert len(ax.collections[0].get_segments()) == strong[6:].sum()
    assert len(ax.collections) == 3  # edges, body, outputs
    # input -> b0 -> b1 -> output b4, b0 -> b2; b3 (a self-loop) is reached by no input
    weights = np.zeros((6, 5))
    weights[0, 0] = weights[1, 1] = weights[2, 4] = weights[1, 2] = weights[4, 3] = 1.0
    layers = viz.graph_layers(weights > 0, n_inputs=1, n_outputs=1)
    assert [layer.tolist() for layer in layers] == [[0], [1], [2, 3], [4], [5]]
    positions = viz.layered_layout(weights > 0, 1, 1)
    assert positions[:, 0].tolist() == [0.0, 0.25, 0.5, 0.5, 0.75, 1.0]
    assert positions[2, 1] > positions[3, 1]  # the first node of a column on top
    ax = viz.network_graph(weights, n_inputs=1, n_outputs=1, mask=weights > 0,
                           spikes=[False, True, False, False, False])
    assert len(ax.collections[0].get_segments()) == 5
    np.testing.assert_allclose(ax.collections[-1].get_offsets(), positions[[2]])
    ring = viz.ring_layout(3, 8)
    np.testing.assert_allclose(np.hypot(*ring.T), [0.45] * 3 + [1.0] * 8)
    np.testing.assert_allclose(ring[3], [0.0, 1.0], atol=1e-12)


def test_ga_plots_are_one_implementation_and_handle_choice_genes():
    from spikey.meta import analysis

    assert analysis.fitness_over_generations is viz.fitness_over_generations
    assert analysis.gene_distribution is viz.gene_distribution
    history = pd.DataFrame({"generation": [0, 0, 0, 1, 1, 1], "fitness": [1, 2, 3, 2, 4, 6],
                            "rule": ["a", "b", "b", "b", "b", "c"], "x": [0.1, 0.5, 0.9, 0.4,
                                                                       0.5, 0.6]})
    ax = viz.fitness_over_generations(history)
    assert ax.lines[0].get_ydata().tolist() == [3, 6] and ax.lines[1].get_ydata().tolist() == [2, 4]
    ax = viz.gene_distribution(history, "rule")
    assert [p.get_height() for p in ax.patches] == [1, 2, 0, 0, 2, 1]
    ax = viz.gene_over_generations(history, "x")
    np.testing.assert_allclose(ax.collections[0].get_offsets()[:, 1], history.x)
    with pytest.raises(ValueError, match="gene 'y'"):
        viz.gene_distribution(history, "y")


def test_training_plots_reexport_viz():
    from spikey.training import plots

    assert plots.learning_curve is viz.learning_curve and plots.raster is viz.raster


def test_every_plot_renders_to_png(ticked, tmp_path):
    net, monitors = ticked
    episodes = episodes_table()
    history = pd.DataFrame({"generation": np.repeat(np.arange(4), 5),
                            "fitness": np.arange(20.0), "g": np.linspace(0, 1, 20)})
    drawn = {
        "raster": viz.raster(net),
        "rates": viz.firing_rates(net),
        "traces": viz.state_traces(monitors["neurons.potential"], threshold=True),
        "weights": viz.weight_matrix(net),
        "weight_histograms": viz.weight_histograms(monitors["weights.matrix"]),
        "learning": viz.learning_curve(episodes, window=3),
        "transitions": viz.transition_counts(np.arange(30) % 4),
        "state_actions": viz.state_action_counts(np.arange(30) % 4, np.arange(30) % 3),
        "embedding": viz.delay_embedding(np.sin(np.arange(80) / 5.0), tau=4),
        "graph_layered": viz.network_graph(net, step=5),
        "graph_ring": viz.network_graph(net, layout="ring", step=5),
        "fitness": viz.fitness_over_generations(history),
        "genes": viz.gene_distribution(history, "g"),
        "gene_time": viz.gene_over_generations(history, "g"),
        "overview": viz.network_overview(net),
    }
    assert isinstance(drawn["overview"], matplotlib.figure.Figure)
    assert len(drawn["overview"].axes) == 4
    for name, drawing in drawn.items():
        figure = drawing if isinstance(drawing, matplotlib.figure.Figure) else drawing.figure
        path = tmp_path / f"{name}.png"
        figure.savefig(path, dpi=60)
        assert path.stat().st_size > 2000, name
