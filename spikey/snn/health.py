"""Checks that a network's state and the values entering it are finite.

One infinite or NaN reward or observation turns the weights into NaN within
a tick, and a NaN weight never recovers; a run that goes on reports
``inf``/``nan`` figures as if it had succeeded. :func:`spikey.games.run.run_episode`
therefore refuses non-finite rewards and observations, and stops at the
first tick after which :func:`first_non_finite` finds a non-finite state
array. The check reads only floating point arrays (``np.isfinite(a).all()``
each), a few microseconds per tick for the XOR example against milliseconds
for the tick itself.
"""

from __future__ import annotations

import numpy as np

from spikey.snn import kernels


# float dtype -> (the unsigned integer type of its bits, the mask of its exponent field)
_EXPONENT = {np.dtype(np.float32): (np.uint32, np.uint32(0x7F800000)),
             np.dtype(np.float64): (np.uint64, np.uint64(0x7FF0000000000000))}


class NonFiniteError(ValueError):
    """An infinite or NaN value entered a network or appeared in its state."""


def first_non_finite(network):
    """The first state array of ``network`` holding an infinite or NaN value.

    Parameters
    ----------
    network : spikey.Network
        The network to check (every array of ``network.state_arrays(random=False)``
        with a floating point dtype: the state it computes, not its random draws).

    Returns
    -------
    tuple of (str, str) or None
        ``(slot, array name)``, e.g. ``("weights", "matrix")``; None when all are finite.
    """
    # the random streams' blocks hold the generators' uniform draws: never non-finite, and
    # finding them costs more than the rest of the check
    compiled = kernels.AVAILABLE
    for name, array in network.state_arrays(random=False).items():
        spec = _EXPONENT.get(array.dtype)
        if spec is not None and compiled:  # one pass, no temporary
            finite = kernels.all_finite(array.reshape(-1).view(spec[0]), spec[1])
        else:
            finite = array.dtype.kind not in "fc" or np.isfinite(array).all()
        if not finite:
            slot, _, attribute = name.partition(".")
            return slot, attribute
    return None


def bad_members(values, batch_size: int) -> list:
    """Members (indices along the first axis) whose ``values`` include a non-finite number.

    Parameters
    ----------
    values : array_like
        ``(B, ...)`` values, or any shape (then the whole array counts as member 0).
    batch_size : int
        ``B``.

    Returns
    -------
    list of int
    """
    values = np.asarray(values)
    if values.ndim == 0 or values.shape[0] != batch_size:
        return [0] if not np.isfinite(values).all() else []
    flat = values.reshape(batch_size, -1)
    return [int(b) for b in np.flatnonzero(~np.isfinite(flat).all(axis=1))]


def first_bad_value(values):
    """The first non-finite number in ``values`` (``inf``, ``-inf`` or ``nan``), or None.

    Parameters
    ----------
    values : array_like

    Returns
    -------
    float or None
    """
    values = np.asarray(values).ravel()
    bad = np.flatnonzero(~np.isfinite(values))
    return None if not len(bad) else values[bad[0]].item()


def check_network(network, where: str) -> None:
    """Raise :class:`NonFiniteError` naming the array and members if any state is non-finite.

    Parameters
    ----------
    network : spikey.Network
        The network to check.
    where : str
        When the check ran, for the message (e.g. ``"after tick 12 of the episode"``).
    """
    found = first_non_finite(network)
    if found is None:
        return
    slot, attribute = found
    array = network.state_arrays()[f"{slot}.{attribute}"]
    raise NonFiniteError(
        f"network state became non-finite {where}: {slot}.{attribute} holds "
        f"{first_bad_value(array)} (members {bad_members(array, network.batch_size)}); the run "
        "is stopped because a NaN or infinite value never recovers (check the learning rate, "
        "weight bounds and the rewards)")
