"""Checks that a network's state and the values entering it are finite.

One infinite or NaN reward or observation turns the weights into NaN within
a tick, and a NaN weight never recovers; a run that goes on reports
``inf``/``nan`` figures as if it had succeeded. :func:`spikey.games.run.run_episode`
therefore refuses non-finite rewards and observations, and stops at the
first tick after which :func:`first_non_finite` finds a non-finite state
array. The check reads only floating point arrays. :class:`StateCheck`, what
``run_episode`` runs after every tick, finds the arrays once and checks them
all in one compiled call (2-5 us per tick for the XOR example, against
about 0.5 ms for the tick itself); :func:`check_network` finds them anew on
every call.
"""

from __future__ import annotations

import keyword
from operator import attrgetter, is_not

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


def _finite_table(table):
    # table[k] = (address, count, bits): the raw bits of a contiguous float32 (bits 32) or
    # float64 (bits 64) array of count values at address. As kernels.all_finite: the largest
    # masked exponent equals the exponent mask exactly when the array holds an inf or NaN
    for k in range(table.shape[0]):
        address, count = table[k, 0], table[k, 1]
        if table[k, 2] == 32:
            mask32 = np.uint32(0x7F800000)
            top32 = np.uint32(0)
            for x in range(count):
                value32 = _load32(address, x) & mask32
                if value32 > top32:
                    top32 = value32
            if top32 == mask32:
                return False
        else:
            mask64 = np.uint64(0x7FF0000000000000)
            top64 = np.uint64(0)
            for x in range(count):
                value64 = _load64(address, x) & mask64
                if value64 > top64:
                    top64 = value64
            if top64 == mask64:
                return False
    return True


_table_check = None
if numba is not None:
    from llvmlite import ir
    from numba.core import types
    from numba.extending import intrinsic

    def _loader(bits, kind):
        @intrinsic
        def load(typingctx, address, index):
            # the index-th value of kind at the raw address (the caller keeps the array alive)
            def codegen(context, builder, signature, args):
                pointer = builder.inttoptr(args[0], ir.IntType(bits).as_pointer())
                return builder.load(builder.gep(pointer, [args[1]]))
            return kind(types.intp, types.intp), codegen
        return load

    _load32 = _loader(32, types.uint32)
    _load64 = _loader(64, types.uint64)
    _table_check = numba.njit(cache=True, nogil=True)(_finite_table)


_MISSING = object()


class StateCheck:
    """The per-tick finite check of one network, its arrays found once.

    Calling it does what :func:`check_network` does: it raises
    :class:`NonFiniteError` naming the array and the members when a state
    array of ``network`` (every floating point array of
    ``network.state_arrays(random=False)``) holds an infinite or NaN value. It
    keeps the arrays it found and a table of the contiguous float32 / float64
    ones' addresses, and checks those in one compiled call (others with
    ``np.isfinite``); on every call it first confirms that each array it keeps is still
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
        # the float arrays (only they can hold inf or NaN) and pending spikes, by owner
        refs = {id(network): (network, ["_pending"], [getattr(network, "_pending", None)])}
        table, held, slow = [], [], []
        self.resolved = True
        for key, array in network.state_arrays(random=False).items():
            kind = getattr(array, "dtype", np.dtype(object)).kind
            if kind not in "fc":
                continue
            slot, _, name = key.partition(".")
            owner = owners.get(slot)
            for attribute in (name, "_" + name):
                if owner is not None and getattr(owner, attribute, _MISSING) is array:
                    entry = refs.setdefault(id(owner), (owner, [], []))
                    entry[1].append(attribute)
                    entry[2].append(array)
                    break
            else:  # an array no attribute holds: find every array anew on each call
                self.resolved = False
            spec = _EXPONENT.get(array.dtype)
            if spec is not None and _table_check is not None and array.flags.c_contiguous:
                table.append((array.ctypes.data, array.size, 8 * array.dtype.itemsize))
                held.append(array)  # the addresses stay valid while these are held
            else:
                slow.append(array)
        # per owner one attrgetter (a tuple of its arrays when it holds several)
        self._refs = tuple((owner, attrgetter(*names), tuple(arrays) if len(names) > 1
                            else arrays[0], len(names) > 1)
                           for owner, names, arrays in refs.values())
        self._same = _identity_check(refs.values())
        # the table covers every array and the identity expression checks them all
        self._whole = (self.resolved and not slow and _table_check is not None
                       and self._same is not None)
        self._slow = tuple(slow)
        self._held = tuple(held)
        self._table = np.array(table, dtype=np.int64).reshape(-1, 3)

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
        self._current()
        if len(self._table) and not _table_check(self._table):
            check_network(self.network, where)
            return
        for array in self._slow:
            if not np.isfinite(array).all():
                check_network(self.network, where)
                return

    def after_tick(self, tick: int) -> None:
        """``self(f"in tick {tick} of the episode")``, the message built only when it raises.

        Parameters
        ----------
        tick : int
            The episode's tick that just ran.
        """
        if not self.resolved:
            check_network(self.network, f"in tick {tick} of the episode")
            return
        self._current()
        if not self.resolved or (len(self._table) and not _table_check(self._table)) or (
                self._slow and not all(np.isfinite(a).all() for a in self._slow)):
            check_network(self.network, f"in tick {tick} of the episode")

    def compiled_table(self):
        """The table of a compiled check covering every state array, or None.

        Confirms first that the kept arrays are still their parts' (finding them
        anew if not), as a call does. A caller that runs ``_table_check(table)``
        (e.g. inside its own compiled call) instead of calling this check must get
        the table anew before every check, and report a failure through
        :func:`check_network`.

        Returns
        -------
        numpy.ndarray or None
            ``(n, 3)`` int64 (address, count, bits); None when some arrays are
            checked in Python (not contiguous, another dtype, no numba, or arrays
            no attribute holds).
        """
        if self._whole and self._same():  # the common case: nothing replaced
            return self._table
        if not self.resolved or _table_check is None:
            return None
        self._current()
        return None if self._slow or not self.resolved else self._table

    def _current(self) -> None:
        # find the arrays anew when a part replaced one the check keeps
        same = self._same
        if same is not None:
            if not same():
                self._find()
            return
        for owner, get, expected, several in self._refs:
            try:
                got = get(owner)
            except AttributeError:
                got = _MISSING
            if any(map(is_not, got, expected)) if several and got is not _MISSING \
                    else got is not expected:
                self._find()
                return


def _identity_check(refs):
    """A function ``same() -> bool``: whether every owner still holds each array the check
    keeps (one generated expression of ``owner.name is array`` terms: a tenth of the loop's
    cost); None when a name is not an identifier (the loop over attrgetters then runs)."""
    terms, scope = [], {}
    for i, (owner, names, arrays) in enumerate(refs):
        scope[f"o{i}"] = owner
        for j, (name, array) in enumerate(zip(names, arrays)):
            if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("__"):
                return None
            scope[f"a{i}_{j}"] = array
            terms.append(f"o{i}.{name} is a{i}_{j}")
    source = ("def same():\n    try:\n        return " + (" and ".join(terms) or "True")
              + "\n    except AttributeError:\n        return False\n")
    code = _SOURCES.get(source)
    if code is None:  # compiled once per layout (a check is made per episode)
        if len(_SOURCES) > 256:
            _SOURCES.clear()
        code = _SOURCES[source] = compile(source, "<spikey.snn.health.StateCheck>", "exec")
    exec(code, scope)  # noqa: S102
    return scope.pop("same")  # (left in its globals it would make a reference cycle)


_SOURCES = {}  # the identity checks' code by source

