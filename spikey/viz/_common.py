"""Helpers shared by the plotting modules: new Axes, smoothing, spike sources.

Nothing here imports :mod:`matplotlib.pyplot` at module level, so importing
:mod:`spikey.viz` never picks a GUI backend; without a display matplotlib
falls back to Agg on its own.
"""

from __future__ import annotations

import numpy as np

#: Colour of each neuron group, the same in every plot.
GROUP_COLORS = {"inputs": "tab:gray", "body": "tab:blue", "outputs": "tab:red"}


def new_axes(ax=None, figsize=(6.0, 3.5)):
    """``ax`` itself, or the Axes of a new figure of ``figsize`` inches."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    # constrained layout keeps outside legends and axis labels inside the saved figure
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def moving_average(values, window: int, axis: int = -1, centered: bool = False) -> np.ndarray:
    """Mean over a sliding window of ``window`` samples along ``axis``, skipping NaN.

    Each output sample is the mean of the finite samples in its window (NaN
    when there are none), so edges average over the samples that exist and the
    output has the input's shape: the same as pandas
    ``rolling(window, min_periods=1, center=centered).mean()``. A trailing window
    (the default) at sample ``i`` covers ``[i - window + 1, i]``; a centred one
    ``[i - window // 2, i + (window - 1) // 2]``.

    Parameters
    ----------
    values : array_like
        Samples; ``axis`` is the one smoothed.
    window : int
        Samples per window, >= 1 (1 returns the values unchanged, as floats).
    axis : int
        Axis to smooth along.
    centered : bool
        Centre the window on each sample instead of ending it there.

    Returns
    -------
    numpy.ndarray
        Float array of the shape of ``values``.

    Examples
    --------
    >>> moving_average([0.0, 2.0, 4.0, 6.0], 2)
    array([0., 1., 3., 5.])
    """
    window = int(window)
    if window < 1:
        raise ValueError(f"smoothing window = {window}; expected an integer >= 1")
    values = np.moveaxis(np.asarray(values, dtype=float), axis, -1)
    n = values.shape[-1]
    finite = np.isfinite(values)
    total = np.zeros(values.shape[:-1] + (n + 1,))
    count = np.zeros(values.shape[:-1] + (n + 1,))
    np.cumsum(np.where(finite, values, 0.0), axis=-1, out=total[..., 1:])
    np.cumsum(finite, axis=-1, out=count[..., 1:])
    i = np.arange(n)
    if centered:
        start, stop = i - window // 2, i + (window - 1) // 2 + 1
    else:
        start, stop = i - window + 1, i + 1
    start, stop = np.clip(start, 0, n), np.clip(stop, 0, n)
    counted = count[..., stop] - count[..., start]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(counted > 0, (total[..., stop] - total[..., start]) / counted, np.nan)
    return np.moveaxis(out, -1, axis)


def member_of(array, member: int, ndim: int) -> np.ndarray:
    """One member's slice of an array with an optional leading batch axis.

    An array of ``ndim`` dimensions is one member's already; one of
    ``ndim + 1`` is indexed at ``member``.
    """
    array = np.asarray(array)
    if array.ndim == ndim + 1:
        return array[member]
    if array.ndim != ndim:
        raise ValueError(f"expected an array of {ndim} dimensions (or {ndim + 1} with a leading "
                         f"batch axis), got shape {array.shape}")
    return array


def spike_groups(source, member: int = 0, input_spikes=None, n_outputs: int = 0):
    """One member's spikes as ``(times, spikes, groups, dt)``.

    Parameters
    ----------
    source : Network, Monitor or array_like
        A :class:`~spikey.snn.network.Network` (its last tick: input and body
        spikes), a :class:`~spikey.snn.network.Monitor` of ``'spikes'`` (body
        spikes at ``monitor.steps``), or body spikes ``(B, T, N)`` or ``(T, N)``.
    member : int
        Batch member.
    input_spikes : array_like, optional
        Input spikes ``(B, T, n_inputs)`` or ``(T, n_inputs)`` to go with an
        array ``source``.
    n_outputs : int
        Output neurons (the last body neurons) of an array or Monitor ``source``;
        a Network knows its own.

    Returns
    -------
    times : numpy.ndarray
        ``(T,)`` step of each row.
    spikes : numpy.ndarray
        ``(T, n_inputs + N)`` bool, inputs first (the rows of the weight matrix).
    groups : dict
        ``'inputs'``, ``'body'``, ``'outputs'`` -> slice of columns; only
        groups with neurons appear.
    dt : float or None
        The network step (ms) when the source knows it.
    """
    dt = None
    if hasattr(source, "tick_spikes"):  # a Network
        body = source.tick_spikes[member]
        inputs = source.tick_input_spikes[member]
        n_outputs, dt = source.n_outputs, float(source.dt)
        times = np.arange(body.shape[0])
    elif hasattr(source, "records"):  # a Monitor
        body = member_of(source.data, member, 2).astype(bool)
        times = np.asarray(source.steps)
        inputs = np.zeros((body.shape[0], 0), dtype=bool)
        dt = float(source.network.dt)
        if not n_outputs and source.path == "spikes":
            n_outputs = source.network.n_outputs
        elif source.path == "output_spikes":
            n_outputs = body.shape[1]
    else:
        body = member_of(source, member, 2).astype(bool)
        times = np.arange(body.shape[0])
        inputs = np.zeros((body.shape[0], 0), dtype=bool) if input_spikes is None else \
            member_of(input_spikes, member, 2).astype(bool)
    if inputs.shape[0] != body.shape[0]:
        raise ValueError(f"input spikes have {inputs.shape[0]} steps but body spikes "
                         f"{body.shape[0]}")
    n_in, n = inputs.shape[1], body.shape[1]
    if not 0 <= n_outputs <= n:
        raise ValueError(f"n_outputs = {n_outputs}; expected 0 <= n_outputs <= {n}")
    spans = {"inputs": (0, n_in), "body": (n_in, n_in + n - n_outputs),
             "outputs": (n_in + n - n_outputs, n_in + n)}
    groups = {name: slice(*span) for name, span in spans.items() if span[1] > span[0]}
    return times, np.concatenate([inputs, body], axis=1), groups, dt


def time_window(times, window):
    """Bool mask of ``times`` inside ``window = (start, stop)`` (half open); all if None."""
    times = np.asarray(times)
    if window is None:
        return np.ones(times.shape, dtype=bool)
    start, stop = window
    keep = np.ones(times.shape, dtype=bool)
    if start is not None:
        keep &= times >= start
    if stop is not None:
        keep &= times < stop
    return keep


def encode(values, known=None):
    """Discrete values as integer codes: ``(codes, labels)``.

    ``labels`` is ``known`` when given (every value must be in it), else the
    sorted distinct values.
    """
    values = np.asarray(values)
    labels = np.unique(values) if known is None else np.asarray(known)
    if values.size == 0:
        return np.zeros(0, dtype=np.intp), labels
    order = np.argsort(labels, kind="stable")
    position = np.searchsorted(labels[order], values)
    position = np.clip(position, 0, len(labels) - 1)
    codes = order[position]
    missing = labels[codes] != values
    if np.any(missing):
        raise ValueError(f"values {np.unique(values[missing]).tolist()} are not among the "
                         f"given labels {labels.tolist()}")
    return codes, labels


def member_weights(weights, member: int) -> tuple:
    """One member's ``(P, N)`` weight matrix and synapse mask, from dense or sparse storage."""
    if getattr(weights, "SPARSE", False):  # SparseFanIn keeps (N, K) arrays
        return weights.dense()[member], weights.dense_mask()[member]
    return weights.matrix[member], weights.mask[member]


# ---------------------------------------------------------------- labels in words, with units
#: Words and unit of each monitored state array, config key or episodes column that plots
#: name: ``path -> (words, unit)``; ``unit`` is ``''`` for dimensionless quantities.
LABELS = {
    # state arrays (Monitor paths)
    "neurons.potential": ("membrane potential", "mV"),
    "neurons.recovery": ("recovery variable u", "mV"),
    "neurons.firing_threshold": ("firing threshold", "mV"),
    "neurons.effective_threshold": ("effective threshold", "mV"),
    "neurons.threshold": ("firing threshold", "mV"),
    "neurons.modulation": ("modulation level", ""),
    "neurons.adaptation_level": ("adaptation", "mV"),
    "neurons.excitatory_conductance": ("excitatory conductance", "nS"),
    "neurons.inhibitory_conductance": ("inhibitory conductance", "nS"),
    "neurons.refractory_left": ("refractory time left", "ms"),
    "neurons.rate": ("firing rate", "Hz"),
    "neurons.spikes": ("spikes", ""),
    "spikes": ("spikes", ""),
    "output_spikes": ("output spikes", ""),
    "weights.matrix": ("synaptic weight", "mV"),
    "synapses.eligibility": ("eligibility trace", ""),
    "synapses.trace": ("eligibility trace", ""),
    "synapses.dopamine": ("dopamine level", ""),
    "synapses.pre_trace": ("presynaptic trace", ""),
    "synapses.post_trace": ("postsynaptic trace", ""),
    "stp.utilisation": ("release probability u", ""),
    "stp.resources": ("available resources x", ""),
    # config keys (GA genes, sweep columns)
    "neurons.tau": ("membrane time constant", "ms"),
    "neurons.refractory": ("refractory period", "ms"),
    "neurons.spontaneous_rate": ("spontaneous rate", "Hz"),
    "neurons.n_neurons": ("neurons", ""),
    "synapses.learning_rate": ("learning rate", ""),
    "synapses.A_plus": ("potentiation amplitude A+", ""),
    "synapses.A_minus": ("depression amplitude A-", ""),
    "synapses.tau_plus": ("potentiation time constant", "ms"),
    "synapses.tau_minus": ("depression time constant", "ms"),
    "synapses.tau_z": ("eligibility time constant", "ms"),
    "synapses.dopamine_tau": ("dopamine time constant", "ms"),
    "weights.max_weight": ("largest synaptic weight", "mV"),
    "weights.weight": ("synaptic weight", "mV"),
    "weights.density": ("connection density", ""),
    "inputs.rate_map": ("input rates", "Hz"),
    "network.processing_steps": ("steps per tick", ""),
    "network.dt": ("time step", "ms"),
    # episodes table columns
    "return": ("episode return", ""),
    "mean_reward": ("mean reward per tick", ""),
    "weight_mean": ("mean synaptic weight", "mV"),
    "ticks": ("ticks per episode", ""),
    "fitness": ("fitness", ""),
}

_UNIT_IN_DESCRIPTION = None


def _unit_from_keys(section: str, key: str) -> str | None:
    """The unit written in the descriptions of the registered parts' key ``key`` (e.g.
    ``'Membrane time constant (ms).'``), when every part of that family agrees on one."""
    import re

    global _UNIT_IN_DESCRIPTION
    if _UNIT_IN_DESCRIPTION is None:
        _UNIT_IN_DESCRIPTION = re.compile(r"\((ms|mV|Hz|s|nS|pA)\b")
    from spikey.core.part import REGISTRY

    units = set()
    for family, classes in REGISTRY.items():
        if family != section:
            continue
        for cls in classes.values():
            for k in getattr(cls, "KEYS", ()):
                if getattr(k, "name", None) == key:
                    found = _UNIT_IN_DESCRIPTION.search(getattr(k, "description", "") or "")
                    units.add(found.group(1) if found else "")
    return units.pop() if len(units) == 1 else None


def words_and_unit(path: str) -> tuple:
    """``(words, unit)`` of a state path, config key or column name.

    ``'neurons.potential'`` gives ``('membrane potential', 'mV')``; a GA gene
    ``'network.neurons.tau'`` drops its ``network.`` prefix and gives
    ``('membrane time constant', 'ms')``. A path not in :data:`LABELS` is put
    into words (``'synapses.tau_foo'`` -> ``'synapses: tau foo'``) with the unit
    its registered parts' key descriptions agree on, or ``''``.

    Parameters
    ----------
    path : str
        Dotted path or column name.

    Returns
    -------
    tuple of str
        Words, unit (``''`` when unknown or dimensionless).
    """
    path = str(path)
    short = path[len("network."):] if path.startswith("network.") and \
        path.count(".") >= 2 else path
    for candidate in (path, short):
        if candidate in LABELS:
            return LABELS[candidate]
    parts = short.split(".")
    words = parts[-1].replace("_", " ")
    if len(parts) >= 2:
        unit = _unit_from_keys(parts[-2], parts[-1]) or ""
        return f"{parts[-2]}: {words}", unit
    return words, ""


def axis_label(path: str, unit: str | None = None, suffix: str = "") -> str:
    """An axis or colour-bar label in words with its unit: ``'membrane potential (mV)'``.

    Parameters
    ----------
    path : str
        Dotted path or column name, looked up with :func:`words_and_unit`.
    unit : str, optional
        Overrides the looked-up unit.
    suffix : str
        Text added after the unit, e.g. ``', 10-episode mean'``.

    Returns
    -------
    str
    """
    words, known = words_and_unit(path)
    unit = known if unit is None else unit
    return f"{words} ({unit}{suffix})" if unit else (f"{words} ({suffix.lstrip(', ')})"
                                                      if suffix else words)


def integer_ticks(axis, nbins="auto"):
    """Put integer-only major ticks on ``axis`` (an Axis, e.g. ``ax.xaxis`` or a colour bar's)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=nbins, integer=True))


TIME_LABEL = "time (ms)"
