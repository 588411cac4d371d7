"""What a game did: counts of state transitions and of state-action pairs.

States and actions are discrete values (ints, strings, ...). They come as
arrays (one trajectory ``(T,)``, trajectories ``(B, T)`` or a list of
trajectories of any lengths) or as columns of a ticks table, whose rows are
split into trajectories by ``(phase, episode, member)`` and ordered by tick.
A transition is a pair of consecutive states within one trajectory.
"""

from __future__ import annotations

import numpy as np

from spikey.viz._common import encode, integer_ticks, new_axes

TRAJECTORY_COLUMNS = ("run", "phase", "episode", "member")


def _trajectories(data, column):
    """A list of 1-D arrays, one per trajectory."""
    if hasattr(data, "columns"):  # a ticks DataFrame
        if column not in data.columns:
            raise ValueError(f"column {column!r} is not in the table; columns: "
                             f"{list(data.columns)}")
        keys = [c for c in TRAJECTORY_COLUMNS if c in data.columns]
        rows = data.sort_values(keys + (["tick"] if "tick" in data.columns else []),
                                kind="stable")
        if not keys:
            return [rows[column].to_numpy()]
        return [group[column].to_numpy() for _, group in rows.groupby(keys, sort=False)]
    if isinstance(data, (list, tuple)) and len(data) and np.ndim(data[0]) == 1:
        return [np.asarray(d) for d in data]
    array = np.asarray(data)
    if array.ndim == 1:
        return [array]
    if array.ndim == 2:
        return list(array)
    raise ValueError(f"states of shape {array.shape}; expected (T,), (B, T) or a list of (T,)")


def count_transitions(states, values=None, *, column: str = "state"):
    """Number of times each state followed each other state.

    Parameters
    ----------
    states : array_like, list of array_like or pandas.DataFrame
        Trajectories of discrete states (see the module docstring).
    values : sequence, optional
        Every possible state, in display order; default the sorted states seen.
    column : str
        Column of a DataFrame ``states``.

    Returns
    -------
    counts : numpy.ndarray
        ``(S, S)`` int, ``counts[i, j]`` = transitions from ``values[i]`` to ``values[j]``.
    values : numpy.ndarray
        ``(S,)`` the states.

    Examples
    --------
    >>> count_transitions([0, 1, 1, 0])[0]
    array([[0, 1],
           [1, 1]])
    """
    trajectories = _trajectories(states, column)
    joined = np.concatenate(trajectories) if trajectories else np.zeros(0)
    codes, values = encode(joined, values)
    S = len(values)
    counts = np.zeros((S, S), dtype=np.int64)
    start = 0
    for trajectory in trajectories:
        part = codes[start:start + len(trajectory)]
        start += len(trajectory)
        np.add.at(counts, (part[:-1], part[1:]), 1)
    return counts, values


def count_state_actions(states, actions=None, state_values=None, action_values=None, *,
                        state: str = "state", action: str = "action"):
    """Number of times each action was taken in each state.

    Parameters
    ----------
    states : array_like or pandas.DataFrame
        States, or a table with ``state`` and ``action`` columns.
    actions : array_like, optional
        Actions, of the shape of ``states`` (not for a table).
    state_values, action_values : sequence, optional
        Every possible state / action in display order; default those seen, sorted.
    state, action : str
        Columns of a table.

    Returns
    -------
    counts : numpy.ndarray
        ``(S, A)`` int, ``counts[i, j]`` = times ``action_values[j]`` was taken in
        ``state_values[i]``.
    state_values, action_values : numpy.ndarray
    """
    if hasattr(states, "columns"):
        for name in (state, action):
            if name not in states.columns:
                raise ValueError(f"column {name!r} is not in the table; columns: "
                                 f"{list(states.columns)}")
        states, actions = states[state].to_numpy(), states[action].to_numpy()
    elif actions is None:
        raise ValueError("count_state_actions: pass actions (or a table with both columns)")
    states, actions = np.asarray(states).ravel(), np.asarray(actions).ravel()
    if states.shape != actions.shape:
        raise ValueError(f"{states.size} states but {actions.size} actions")
    s, state_values = encode(states, state_values)
    a, action_values = encode(actions, action_values)
    counts = np.zeros((len(state_values), len(action_values)), dtype=np.int64)
    np.add.at(counts, (s, a), 1)
    return counts, state_values, action_values


def _count_heatmap(ax, counts, row_values, column_values, annotate):
    image = ax.imshow(counts, cmap="Blues", aspect="auto", interpolation="nearest",
                      vmin=0)
    ax.set_xticks(np.arange(len(column_values)), [str(v) for v in column_values])
    ax.set_yticks(np.arange(len(row_values)), [str(v) for v in row_values])
    if annotate is None:
        annotate = counts.size <= 144
    if annotate:
        dark = counts > 0.6 * max(int(counts.max()), 1)
        for (i, j), value in np.ndenumerate(counts):
            ax.text(j, i, str(value), ha="center", va="center", fontsize="small",
                    color="white" if dark[i, j] else "black")
    bar = ax.figure.colorbar(image, ax=ax, label="ticks (count)")
    integer_ticks(bar.ax.yaxis)
    return image


def transition_counts(states, ax=None, *, values=None, column: str = "state", annotate=None):
    """Heatmap of state-to-state transition counts.

    Parameters
    ----------
    states, values, column
        As for :func:`count_transitions`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    annotate : bool, optional
        Write each count in its cell; default when there are at most 144 cells.

    Returns
    -------
    matplotlib.axes.Axes
        Its one image holds the counts of :func:`count_transitions`
        (rows: from, columns: to).

    Examples
    --------
    >>> ax = transition_counts(ticks, column="action")   # doctest: +SKIP
    """
    counts, values = count_transitions(states, values, column=column)
    ax = new_axes(ax, (5.0, 4.2))
    _count_heatmap(ax, counts, values, values, annotate)
    ax.set_xlabel(f"next {column}" if hasattr(states, "columns") else "next state")
    ax.set_ylabel(column if hasattr(states, "columns") else "state")
    return ax


def state_action_counts(states, actions=None, ax=None, *, state_values=None,
                        action_values=None, state: str = "state", action: str = "action",
                        annotate=None):
    """Heatmap of how often each action was taken in each state.

    Parameters
    ----------
    states, actions, state_values, action_values, state, action
        As for :func:`count_state_actions`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    annotate : bool, optional
        Write each count in its cell; default when there are at most 144 cells.

    Returns
    -------
    matplotlib.axes.Axes
        Its one image holds the ``(S, A)`` counts of :func:`count_state_actions`.

    Examples
    --------
    >>> ax = state_action_counts(observations, actions)   # doctest: +SKIP
    """
    counts, state_values, action_values = count_state_actions(
        states, actions, state_values, action_values, state=state, action=action)
    ax = new_axes(ax, (5.0, 4.2))
    _count_heatmap(ax, counts, state_values, action_values, annotate)
    ax.set_xlabel(action)
    ax.set_ylabel(state)
    return ax
