"""Activity over time: spike rasters, population rates, state traces, delay embeddings.

Columns of spike arrays follow the weight matrix rows: inputs first, then body
neurons, the last ``n_outputs`` of which are outputs. A population's rate at
step :math:`t` is

.. math:: r(t) = \\frac{1}{|G|\\,\\Delta t} \\sum_{i \\in G} s_i(t)

in Hz (:math:`\\Delta t` in seconds), smoothed by a centred moving average of
``window`` steps.
"""

from __future__ import annotations

import numpy as np

from spikey.viz._common import (GROUP_COLORS, TIME_LABEL, axis_label, integer_ticks, member_of,
                                moving_average, new_axes, spike_groups, time_window)


def raster(network, member: int = 0, ax=None, *, window=None, input_spikes=None,
           n_outputs: int = 0, marker_size=None, dt=None):
    """Spike raster of one member: inputs, body and outputs in their own colours.

    The x axis is time in ms (step times ``dt``); every neuron row is shown
    whole (y limits ``-0.5 .. rows - 0.5``) and neuron ticks are integers.

    Parameters
    ----------
    network : Network, Monitor or array_like
        A Network (its last tick: ``tick_input_spikes`` and ``tick_spikes``), a
        Monitor of ``'spikes'`` (x axis: ``monitor.steps``), or body spikes
        ``(B, T, N)`` / ``(T, N)``.
    member : int
        Batch member to draw.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    window : (start, stop), optional
        Steps to show, half open; either end may be None.
    input_spikes : array_like, optional
        Input spikes ``(B, T, n_inputs)`` / ``(T, n_inputs)`` for an array ``network``.
    n_outputs : int
        Output neurons (the last body neurons) of an array or Monitor source.
    marker_size : float, optional
        Scatter marker size (points^2); default scales with the number of rows.
    dt : float, optional
        Step in ms; default the source's own (1.0 for a bare array).

    Returns
    -------
    matplotlib.axes.Axes
        One scatter (PathCollection) per group, in the order inputs, body,
        outputs, with one point ``(time in ms, row)`` per spike shown.

    Examples
    --------
    >>> net.tick(observation)                 # doctest: +SKIP
    >>> ax = raster(net, window=(0, 200))     # doctest: +SKIP
    """
    times, spikes, groups, own_dt = spike_groups(network, member, input_spikes, n_outputs)
    dt = float(dt if dt is not None else (own_dt if own_dt is not None else 1.0))
    ax = new_axes(ax, (7.0, 4.0))
    keep = time_window(times, window)
    times, spikes = times[keep], spikes[keep]
    rows = spikes.shape[1]
    if marker_size is None:
        # a tick as tall as a row, but never too short to see
        marker_size = float(np.clip((240.0 / max(rows, 1)) ** 2, 16.0, 60.0))
    for name, columns in groups.items():
        t, k = np.nonzero(spikes[:, columns])
        ax.scatter(times[t] * dt, k + columns.start, s=marker_size, marker="|", linewidths=1.3,
                   c=GROUP_COLORS[name], label=name)
        if columns.start > 0:
            ax.axhline(columns.start - 0.5, color="0.8", linewidth=0.6, zorder=0)
    # with many rows a tick is taller than its row: widen the limits by the part of half a
    # marker that would stick out, so the first and last rows are not clipped
    # (the limits widen too, so solve o + 0.5 = half * (rows + 2 o) / height for o)
    height_pt = max(ax.bbox.height * 72.0 / ax.figure.dpi, 1.0)
    half = min(np.sqrt(marker_size) / 2.0 / height_pt, 0.25)  # in axes heights
    overhang = max(0.0, (half * max(rows, 1) - 0.5) / (1.0 - 2.0 * half))
    ax.set_ylim(-0.5 - overhang, rows - 0.5 + overhang)
    if window is not None or len(times):
        start = window[0] if window is not None and window[0] is not None else \
            (times[0] if len(times) else 0)
        stop = window[1] if window is not None and window[1] is not None else \
            (times[-1] + 1 if len(times) else 1)
        ax.set_xlim((start - 0.5) * dt, (stop - 0.5) * dt)
    ax.set_xlabel(TIME_LABEL)
    ax.set_ylabel("neuron (" + ", then ".join(groups) + ")" if len(groups) > 1 else "neuron")
    integer_ticks(ax.yaxis)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), markerscale=1.5, fontsize="small",
              frameon=False)
    return ax


def population_rates(network, member: int = 0, *, groups=None, window: int = 10, dt=None,
                     input_spikes=None, n_outputs: int = 0):
    """Smoothed firing rate of each neuron group over time.

    Parameters
    ----------
    network : Network, Monitor or array_like
        Spike source, as for :func:`raster`.
    member : int
        Batch member.
    groups : dict, optional
        Name -> columns (slice, index list or bool mask) of the spike array,
        inputs first then body; default the inputs, body and outputs groups.
    window : int
        Centred moving-average window in steps (1: no smoothing).
    dt : float, optional
        Network step in ms; default the source's own (1.0 for a bare array).
    input_spikes, n_outputs
        As for :func:`raster`.

    Returns
    -------
    times : numpy.ndarray
        ``(T,)`` steps.
    rates : dict
        Name -> ``(T,)`` rate in Hz (spikes per neuron per second).
    """
    times, spikes, default, own_dt = spike_groups(network, member, input_spikes, n_outputs)
    dt = float(dt if dt is not None else (own_dt if own_dt is not None else 1.0))
    rates = {}
    for name, columns in (default if groups is None else groups).items():
        chosen = spikes[:, columns]
        if chosen.shape[1] == 0:
            raise ValueError(f"group {name!r} selects no neurons")
        raw = chosen.sum(axis=1) / (chosen.shape[1] * dt / 1000.0)
        rates[name] = moving_average(raw, window, centered=True)
    return times, rates


def firing_rates(network, member: int = 0, ax=None, *, groups=None, window: int = 10, dt=None,
                 input_spikes=None, n_outputs: int = 0):
    """Population firing rates over time, one line per group.

    Parameters
    ----------
    network, member, groups, window, dt, input_spikes, n_outputs
        As for :func:`population_rates`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
        One line per group, x-data time (ms), y-data the smoothed rate (Hz)
        of :func:`population_rates`.

    Examples
    --------
    >>> ax = firing_rates(net, window=20)                          # doctest: +SKIP
    >>> ax = firing_rates(net, groups={"first ten": slice(0, 10)})  # doctest: +SKIP
    """
    times, rates = population_rates(network, member, groups=groups, window=window, dt=dt,
                                    input_spikes=input_spikes, n_outputs=n_outputs)
    ax = new_axes(ax, (7.0, 3.0))
    _, _, _, own_dt = spike_groups(network, member, input_spikes, n_outputs)
    dt = float(dt if dt is not None else (own_dt if own_dt is not None else 1.0))
    for name, rate in rates.items():
        ax.plot(times * dt, rate, label=name, color=GROUP_COLORS.get(name), linewidth=1.2)
    ax.set_xlabel(TIME_LABEL)
    ax.set_ylabel(f"population rate (Hz, {window * dt:g} ms mean)" if window > 1 else
                  "population rate (Hz)")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper right", fontsize="small")
    return ax


def state_traces(monitor, neurons=None, member: int = 0, ax=None, *, threshold=None,
                 steps=None, max_default: int = 8, dt=None, label=None):
    """State variables over time (e.g. membrane potentials) of chosen neurons.

    Parameters
    ----------
    monitor : Monitor or array_like
        A Monitor (e.g. of ``'neurons.potential'``), or records ``(B, R, ...)`` /
        ``(R, ...)``.
    neurons : sequence, optional
        Indices into a record (ints, or tuples for records of more than one
        axis, e.g. ``(pre, post)`` of ``'weights.matrix'``); default the first
        ``max_default`` of a 1-D record.
    member : int
        Batch member.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    threshold : float, bool or None
        A dashed horizontal line at this value; True reads the member's
        threshold from the monitored network's neurons.
    steps : array_like, optional
        Step of each record of an array source (default ``monitor.steps``, or 0..R-1).
    max_default : int
        Neurons drawn when ``neurons`` is None.
    dt : float, optional
        Step in ms (x axis: step times ``dt``); default the monitored
        network's, 1.0 for an array.
    label : str, optional
        Y-axis label; default the monitored path in words with its unit
        (:data:`spikey.viz._common.LABELS`, e.g. ``'membrane potential (mV)'``).

    Returns
    -------
    matplotlib.axes.Axes
        One line per neuron (x-data time in ms, y-data its records), then the
        threshold line(s).

    Examples
    --------
    >>> monitor = net.add_monitor("neurons.potential")     # doctest: +SKIP
    >>> net.tick(observation)                              # doctest: +SKIP
    >>> ax = state_traces(monitor, [0, 5], threshold=True) # doctest: +SKIP
    """
    is_monitor = hasattr(monitor, "records")
    data = np.asarray(monitor.data if is_monitor else monitor)
    if is_monitor or data.ndim >= 3:
        data = data[member]
    if steps is None:
        steps = monitor.steps if is_monitor else np.arange(data.shape[0])
    steps = np.asarray(steps)
    if len(steps) != data.shape[0]:
        raise ValueError(f"{len(steps)} steps for {data.shape[0]} records")
    if neurons is None:
        if data.ndim != 2:
            raise ValueError(f"records of shape {data.shape[1:]}: name the entries to draw "
                             "with neurons=[(i, j), ...]")
        neurons = range(min(max_default, data.shape[1]))
    if dt is None:
        dt = float(monitor.network.dt) if is_monitor and hasattr(monitor, "network") else 1.0
    ax = new_axes(ax, (7.0, 3.0))
    for item in neurons:
        index = item if isinstance(item, tuple) else (item,)
        name = f"neuron {item}" if np.ndim(item) == 0 else \
            (f"synapse {item[0]} -> {item[1]}" if len(index) == 2 else f"entry {item}")
        ax.plot(steps * float(dt), data[(slice(None),) + index], linewidth=1.0, label=name)
    if threshold is True:
        if not is_monitor:
            raise ValueError("threshold=True needs a Monitor (to read the network's threshold); "
                             "pass a number instead")
        neuron_part = monitor.network.parts["neurons"]
        value = getattr(neuron_part, "threshold_value", None)
        if value is None:
            raise ValueError(f"{type(neuron_part).__name__} has no threshold; pass a number")
        threshold = np.unique(member_of(np.broadcast_to(value, (monitor.network.batch_size, 1)),
                                        member, 1))
    if threshold is not None and threshold is not False:
        for value in np.atleast_1d(threshold):
            ax.axhline(float(value), color="k", linestyle="--", linewidth=0.8, label="threshold")
    ax.set_xlabel(TIME_LABEL)
    if label is None:
        label = axis_label(monitor.path) if is_monitor else "state"
    ax.set_ylabel(label)
    ax.legend(loc="upper right", fontsize="x-small", ncol=2)
    return ax


def delay_embedding(signal, tau: int = 1, ax=None, *, color_by_time: bool = True,
                    label: str = "x", unit: str = "", dt: float = 1.0):
    """Delay embedding: :math:`x(t)` against :math:`x(t - \\tau)`.

    Parameters
    ----------
    signal : array_like
        ``(T,)`` samples, e.g. a population rate from :func:`population_rates`.
    tau : int
        Delay in samples, 1 <= tau < T.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    color_by_time : bool
        Also scatter the points coloured by time (with a colour bar).
    label : str
        Name of the signal on the axis labels, e.g. ``'body rate'``.
    unit : str
        Unit of the signal (e.g. ``'Hz'``), written on both axes.
    dt : float
        Time between samples in ms: the delay on the labels is ``tau * dt`` ms
        and the colour bar is time in ms.

    Returns
    -------
    matplotlib.axes.Axes
        A line through ``(x[t - tau], x[t])`` for ``t = tau..T-1``, and with
        ``color_by_time`` a scatter of the same points.

    Examples
    --------
    >>> times, rates = population_rates(net, window=5)  # doctest: +SKIP
    >>> ax = delay_embedding(rates["body"], tau=10)     # doctest: +SKIP
    """
    signal = np.asarray(signal, dtype=float).ravel()
    tau = int(tau)
    if not 1 <= tau < len(signal):
        raise ValueError(f"tau = {tau}; expected 1 <= tau < {len(signal)} (the signal length)")
    ax = new_axes(ax, (4.5, 4.0))
    past, now = signal[:-tau], signal[tau:]
    ax.plot(past, now, color="0.6", linewidth=0.6, zorder=1)
    if color_by_time:
        points = ax.scatter(past, now, c=np.arange(tau, len(signal)) * float(dt),
                            cmap="viridis", s=8, zorder=2)
        ax.figure.colorbar(points, ax=ax, label=TIME_LABEL)
    shown = f" ({unit})" if unit else ""
    ax.set_xlabel(f"{label} at t - {tau * float(dt):g} ms{shown}")
    ax.set_ylabel(f"{label} at t{shown}")
    ax.set_aspect("equal", adjustable="datalim")
    return ax
