"""The network as a graph: neurons as nodes, existing synapses as edges.

Nodes are numbered like the rows of the weight matrix: inputs ``0..n_in-1``,
then body neurons ``n_in..n_in+N-1`` (the last ``n_outputs`` are outputs).
An edge ``j -> n_in + k`` exists where ``mask[j, k]``. Layouts are computed
with numpy:

* **layered**: inputs in the first column, outputs in the last, and every
  other body neuron in the column of its shortest synaptic distance from an
  input (neurons no input reaches get a column of their own before the outputs);
* **ring**: body neurons evenly on the unit circle, clockwise from the top
  (outputs form the closing arc), inputs on an inner circle.
"""

from __future__ import annotations

import numpy as np

from spikey.viz._common import GROUP_COLORS, member_of, member_weights, new_axes


def graph_layers(adjacency, n_inputs: int, n_outputs: int) -> list:
    """Columns of the layered layout: a list of node index arrays.

    Parameters
    ----------
    adjacency : array_like of bool
        ``(n_inputs + N, N)``: ``adjacency[j, k]`` for a synapse from node ``j`` to
        body neuron ``k``.
    n_inputs, n_outputs : int
        Input nodes (the first) and output neurons (the last body neurons).

    Returns
    -------
    list of numpy.ndarray
        Node indices of each non-empty column, left to right.
    """
    adjacency = np.asarray(adjacency, dtype=bool)
    n = adjacency.shape[1]
    hidden = n - n_outputs
    depth = np.full(n, -1)
    reached = adjacency[:n_inputs].any(axis=0)
    recurrent = adjacency[n_inputs:]
    level = 1
    while reached.any():
        depth[reached & (depth < 0)] = level
        reached = recurrent[depth == level].any(axis=0) & (depth < 0)
        level += 1
    hidden_depth = depth[:hidden]
    deepest = int(hidden_depth.max()) if hidden and (hidden_depth > 0).any() else 0
    hidden_depth = np.where(hidden_depth > 0, hidden_depth, deepest + 1)
    layers = [np.arange(n_inputs)]
    layers += [n_inputs + np.flatnonzero(hidden_depth == d) for d in range(1, deepest + 2)]
    layers.append(n_inputs + np.arange(hidden, n))
    return [layer for layer in layers if len(layer)]


def layered_layout(adjacency, n_inputs: int, n_outputs: int, layers=None) -> np.ndarray:
    """Node positions in columns (see :func:`graph_layers`), the first node of each on top.

    Parameters
    ----------
    adjacency : array_like of bool
        ``(n_inputs + N, N)`` synapses, as for :func:`graph_layers`.
    n_inputs, n_outputs : int
        Input nodes and output neurons.
    layers : list of array_like, optional
        Node indices of each column, left to right; every node exactly once.
        Default :func:`graph_layers`.

    Returns
    -------
    numpy.ndarray
        ``(n_inputs + N, 2)`` x, y positions: x in [0, 1], y in [-0.5, 0.5].
    """
    n_nodes = np.shape(adjacency)[0]
    if layers is None:
        layers = graph_layers(adjacency, n_inputs, n_outputs)
    layers = [np.asarray(layer, dtype=np.intp).ravel() for layer in layers]
    placed = np.concatenate(layers) if layers else np.zeros(0, dtype=np.intp)
    if np.sort(placed).tolist() != list(range(n_nodes)):
        raise ValueError(f"layers must hold every node 0..{n_nodes - 1} exactly once")
    widest = max(len(layer) for layer in layers)
    positions = np.zeros((n_nodes, 2))
    for column, layer in enumerate(layers):
        m = len(layer)
        positions[layer, 0] = column / max(len(layers) - 1, 1)
        positions[layer, 1] = -(np.arange(m) - (m - 1) / 2) / max(widest - 1, 1)
    return positions


def ring_layout(n_inputs: int, n_neurons: int, inner: float = 0.45) -> np.ndarray:
    """Body neurons on the unit circle, clockwise from the top; inputs on a circle of radius ``inner``.

    Returns
    -------
    numpy.ndarray
        ``(n_inputs + n_neurons, 2)`` x, y positions.
    """
    def circle(count, radius):
        angle = np.pi / 2 - 2 * np.pi * np.arange(count) / max(count, 1)
        return radius * np.column_stack([np.cos(angle), np.sin(angle)])

    return np.concatenate([circle(n_inputs, inner if n_neurons else 1.0),
                           circle(n_neurons, 1.0)])


def network_graph(network, member: int = 0, ax=None, *, layout="layered", threshold=None,
                  step=None, spikes=None, show_inputs: bool = True, layers=None,
                  mask=None, n_inputs=None, n_outputs: int = 0, polarity=None,
                  node_size=None):
    """Draw the network: nodes are neurons, edges are existing synapses.

    Parameters
    ----------
    network : Network or array_like
        A Network, or weights ``(B, P, N)`` / ``(P, N)`` (then give ``n_inputs``).
    member : int
        Batch member.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    layout : {'layered', 'ring'} or array_like
        Layout name, or ``(P, 2)`` node positions.
    threshold : float, optional
        Draw only synapses whose weight is above it; default every existing synapse.
    step : int, optional
        Highlight the neurons that spiked at this step of the network's last tick.
    spikes : array_like of bool, optional
        Neurons to highlight: ``(P,)`` nodes, or ``(N,)`` body neurons.
    show_inputs : bool
        Draw the input nodes and their synapses.
    layers : list of array_like, optional
        Columns of the layered layout (see :func:`layered_layout`).
    mask : array_like of bool, optional
        Existing synapses (default: the network's; all entries of an array).
    n_inputs : int, optional
        Input rows of an array source.
    n_outputs : int
        Output neurons of an array source.
    polarity : array_like, optional
        ``(P,)`` sign of each presynaptic node; negative edges are drawn in
        purple. Default: the network's, all excitatory for an array.
    node_size : float, optional
        Marker area (points^2); default shrinks with the number of nodes.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.collections[0]`` is the LineCollection of edges (one segment per
        synapse drawn; self-connections have zero length), then one scatter
        per node group (inputs, body, outputs), then, with ``step`` or
        ``spikes``, a scatter of the spiking nodes.

    Examples
    --------
    >>> ax = network_graph(net, layout="ring", threshold=1.0, step=10)  # doctest: +SKIP
    """
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgba

    if hasattr(network, "parts"):
        weights = network.parts["weights"]
        matrix, present = member_weights(weights, member)
        mask = present if mask is None else member_of(mask, member, 2)
        n_inputs, n_outputs = network.n_inputs, network.n_outputs
        if polarity is None:
            polarity = np.concatenate([network.parts["inputs"].polarity,
                                       network.parts["neurons"].polarity])
        if step is not None and spikes is None:
            spikes = np.concatenate([network.tick_input_spikes[member, step],
                                     network.tick_spikes[member, step]])
    else:
        matrix = member_of(network, member, 2)
        mask = np.ones(matrix.shape, bool) if mask is None else member_of(mask, member, 2)
        if n_inputs is None:
            raise ValueError("network_graph of a weight array: give n_inputs")
        if step is not None and spikes is None:
            raise ValueError("step needs a Network (its last tick); pass spikes= instead")
    matrix, mask = np.asarray(matrix, dtype=float), np.asarray(mask, dtype=bool)
    n_nodes, n = matrix.shape
    if n_nodes != n_inputs + n:
        raise ValueError(f"weights of shape {matrix.shape} do not match n_inputs = {n_inputs}")
    polarity = np.ones(n_nodes) if polarity is None else np.asarray(polarity, dtype=float)
    edges = mask if threshold is None else mask & (matrix > threshold)

    if isinstance(layout, str):
        if layout == "layered":
            positions = layered_layout(mask, n_inputs, n_outputs, layers)
        elif layout == "ring":
            positions = ring_layout(n_inputs, n)
        else:
            raise ValueError(f"layout = {layout!r}; expected 'layered', 'ring' or positions")
    else:
        positions = np.asarray(layout, dtype=float)
        if positions.shape != (n_nodes, 2):
            raise ValueError(f"layout positions of shape {positions.shape}; expected "
                             f"({n_nodes}, 2)")
    shown = np.ones(n_nodes, dtype=bool)
    if not show_inputs:
        shown[:n_inputs] = False
        edges = edges & shown[:, None]

    ax = new_axes(ax, (6.0, 5.0))
    pre, post = np.nonzero(edges)
    post_node = post + n_inputs
    segments = np.stack([positions[pre], positions[post_node]], axis=1)
    strength = matrix[pre, post]
    scale = strength.max() if strength.size and strength.max() > 0 else 1.0
    colors = np.where((polarity[pre] < 0)[:, None], to_rgba("tab:purple"), to_rgba("0.3"))
    colors[:, 3] = 0.12 + 0.55 * np.clip(strength / scale, 0.0, 1.0)
    ax.add_collection(LineCollection(segments, colors=colors, linewidths=0.7, zorder=1))

    if node_size is None:
        node_size = float(np.clip(4000.0 / max(shown.sum(), 1), 6.0, 160.0))
    spans = {"inputs": (0, n_inputs), "body": (n_inputs, n_nodes - n_outputs),
             "outputs": (n_nodes - n_outputs, n_nodes)}
    for name, (start, stop) in spans.items():
        if stop > start and shown[start]:
            ax.scatter(positions[start:stop, 0], positions[start:stop, 1], s=node_size,
                       c=GROUP_COLORS[name], edgecolors="white", linewidths=0.5, zorder=2,
                       label=name)
    if spikes is not None:
        spikes = np.asarray(spikes, dtype=bool).ravel()
        if spikes.size == n:
            spikes = np.concatenate([np.zeros(n_inputs, dtype=bool), spikes])
        if spikes.size != n_nodes:
            raise ValueError(f"spikes of size {spikes.size}; expected {n_nodes} nodes or "
                             f"{n} body neurons")
        firing = np.flatnonzero(spikes & shown)
        ax.scatter(positions[firing, 0], positions[firing, 1], s=node_size * 1.7, c="gold",
                   edgecolors="k", linewidths=0.8, zorder=3,
                   label="spiking" + (f" (step {step})" if step is not None else ""))
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.06)
    ax.autoscale_view()
    ax.set_axis_off()
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    return ax
