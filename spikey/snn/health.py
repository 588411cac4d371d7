"""Checks that a network's state and the values entering it are finite.

One infinite or NaN reward or observation turns the weights into NaN within
a tick, and a NaN weight never recovers; a run that goes on reports
``inf``/``nan`` figures as if it had succeeded. :func:`spikey.games.run.run_episode`
therefore refuses non-finite rewards and observations, and stops at the
first tick after which :func:`first_non_finite` finds a non-finite state
array. The check reads only floating point arrays. :class:`StateCheck`, what
``run_episode`` runs after every tick, finds the arrays once and checks them
all in one compiled call (about 3 us per tick for the XOR example, against
about 0.5 ms for the tick itself); :func:`check_network` finds them anew on
every call.
"""

from __future__ import annotations

import numpy as np

from spikey.snn import kernels

try:  # the grouped check below; without numba StateCheck falls back to first_non_finite
    import numba
except ImportError:  # pragma: no cover - numba is a dependency
    numba = None


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


#: Most arrays per compiled call of :class:`StateCheck`; a group is padded with empty arrays
#: to 1, 2, 4 or 8 arrays, so the call is compiled for at most four tuple sizes per dtype.
GROUP = 8


def _all_finite_group(group, exponent):
    # each array of the group as in kernels.all_finite: the largest masked exponent of the
    # raw bits equals the exponent mask exactly when the array holds an inf or NaN
    for bits in group:
        top = bits.dtype.type(0)
        for x in range(bits.size):
            value = bits[x] & exponent
            if value > top:
                top = value
        if top == exponent:
            return False
    return True


_group = None if numba is None else numba.njit(cache=True, nogil=True)(_all_finite_group)


def _padded(group: list, empty) -> tuple:
    size = 1
    while size < len(group):
        size *= 2
    return tuple(group) + (empty,) * (size - len(group))


_EMPTY = {np.uint32: np.zeros(0, dtype=np.uint32), np.uint64: np.zeros(0, dtype=np.uint64)}
_MISSING = object()


class StateCheck:
    """The per-tick finite check of one network, its arrays found once.

    Calling it does what :func:`check_network` does: it raises
    :class:`NonFiniteError` naming the array and the members when a state
    array of ``network`` (every floating point array of
    ``network.state_arrays(random=False)``) holds an infinite or NaN value. It
    keeps the arrays it found and the raw-bit views of the contiguous float32 /
    float64 ones, and checks those in one compiled call per dtype and
    :data:`GROUP` of arrays (others with ``np.isfinite``); on every call it first confirms that each array it keeps is still
    the one its part holds (a part that replaced an array, a network that
    grew pending spikes: it finds them anew), so it never reads a stale array.

    Parameters
    ----------
    network : spikey.Network
        The network to check.
    """

    def __init__(self, network):
        self.network = network
        self._find()

    def _find(self) -> None:
        network = self.network
        owners = {slot: part for slot, part in network.parts.items() if part is not None}
        owners.update({m.slot: m for m in network.modifiers})
        owners["network"] = network
        refs = [(network, "_pending", getattr(network, "_pending", None))]
        bits, slow = {np.uint32: [], np.uint64: []}, []
        self.resolved = True
        for key, array in network.state_arrays(random=False).items():
            slot, _, name = key.partition(".")
            owner = owners.get(slot)
            for attribute in (name, "_" + name):
                if owner is not None and getattr(owner, attribute, _MISSING) is array:
                    refs.append((owner, attribute, array))
                    break
            else:  # an array no attribute holds: find every array anew on each call
                self.resolved = False
            kind = getattr(array, "dtype", np.dtype(object)).kind
            if kind not in "fc":
                continue
            spec = _EXPONENT.get(array.dtype)
            if spec is not None and _group is not None and array.flags.c_contiguous:
                bits[spec[0]].append(array.reshape(-1).view(spec[0]))
            else:
                slow.append(array)
        self._refs = tuple(refs)
        self._slow = tuple(slow)
        calls = []
        for kind, views in bits.items():
            exponent = _EXPONENT[np.dtype(np.float32 if kind is np.uint32 else np.float64)][1]
            for start in range(0, len(views), GROUP):
                calls.append((_padded(views[start:start + GROUP], _EMPTY[kind]), exponent))
        self._calls = tuple(calls)

    def __call__(self, where: str) -> None:
        """Raise :class:`NonFiniteError` if a state array is non-finite (see :func:`check_network`).

        Parameters
        ----------
        where : str
            When the check ran, for the message (e.g. ``"in tick 12 of the episode"``).
        """
        if not self.resolved:
            check_network(self.network, where)
            return
        for owner, attribute, array in self._refs:
            if getattr(owner, attribute, None) is not array:
                self._find()
                break
        for call in self._calls:
            if not _group(*call):
                check_network(self.network, where)
                return
        for array in self._slow:
            if not np.isfinite(array).all():
                check_network(self.network, where)
                return
