"""The base class of every network part and the registry of part families.

A part declares its keys (``KEYS``), stores its validated config, and once
built by a network owns arrays with a leading batch axis ``B``. Its
contract is small:

* ``build(context)`` allocates state for ``context.batch_size`` members;
* ``reset()`` returns state to its start-of-episode values (weights stay);
* ``STATE`` names the array attributes that save/load must carry;
* ``set(key, value)`` changes one parameter at run time (modifiers use it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikey.core.params import ConfigError, is_per_member, suggest, validate

#: family name -> {class name -> class}
REGISTRY: dict[str, dict[str, type]] = {}


@dataclass(frozen=True)
class BuildContext:
    """What a network tells its parts when it builds them.

    Attributes
    ----------
    batch_size : int
        Number of independent members ``B``.
    dtype : numpy.dtype
        Floating point type of state arrays.
    dt : float
        Network step in ms.
    seeds : tuple of int
        The seed of each member; member ``b`` of a batch equals a solo network
        seeded ``seeds[b]``.
    n_inputs, n_neurons, n_outputs : int
        Layer sizes (0 where not yet known).
    kernels : bool
        Whether parts run their compiled (numba) kernels; see :mod:`spikey.snn.kernels`.
    activity : Activity
        Which members' episodes are running; random streams and per-member
        adaptation pause for the others.
    """

    batch_size: int
    dtype: np.dtype
    dt: float
    seeds: tuple
    n_inputs: int = 0
    n_neurons: int = 0
    n_outputs: int = 0
    kernels: bool = False
    activity: object = None

    def generators(self, stream: str) -> list:
        """One independent ``numpy.random.Generator`` per member for ``stream``.

        The stream name keeps parts' draws independent of one another, and
        depends only on the member's seed, never on the batch size.
        """
        tag = [ord(c) for c in stream]
        return [
            np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *tag])))
            for seed in self.seeds
        ]


class Part:
    """Base of all parts: declared keys, validated config, run-time state."""

    FAMILY = None
    KEYS: tuple = ()
    STATE: tuple = ()
    #: Set in a family's base class body: bases are not selectable parts.
    ABSTRACT = True
    #: Keys that fix array shapes: they cannot change once the part is built.
    FIXED: tuple = ()
    #: Keys that may differ between batch members: ``{"per_member": [v0, ..., v_B-1]}``.
    PER_MEMBER: tuple = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        abstract = cls.__dict__.get("ABSTRACT", False)
        if cls.FAMILY is not None and not abstract and not cls.__name__.startswith("_"):
            REGISTRY.setdefault(cls.FAMILY, {})[cls.__name__] = cls

    def __init__(self, config: dict | None = None, *, slot: str | None = None, **kwargs):
        given = dict(config or {})
        given.update(kwargs)
        self.slot = slot or self.FAMILY
        self.config = validate(self.KEYS, given, self.owner, self.PER_MEMBER)
        for name, value in self.config.items():
            if not isinstance(getattr(type(self), name, None), property):
                setattr(self, name, value)
        self.context = None
        #: Values changed with set() since construction (saved with the network).
        self.overrides = {}

    @property
    def owner(self) -> str:
        """``'slot (ClassName)'``, how error messages name this part."""
        return f"{self.slot} ({type(self).__name__})"

    @classmethod
    def schema(cls) -> list:
        """Every declared key as a plain dict."""
        return [key.describe() for key in cls.KEYS]

    def get_config(self) -> dict:
        """The validated config this part was built from (plain data)."""
        return dict(self.config)

    def build(self, context: BuildContext) -> None:
        """Allocate state for ``context`` (batch size, dtype, sizes) and derive constants.

        Subclasses allocate their ``(B, ...)`` arrays here and call ``super().build(context)``
        first; per-member values (``{'per_member': [...]}``) become arrays.
        """
        self.context = context
        self.dtype = context.dtype
        for key, value in self.config.items():
            if is_per_member(value):
                setattr(self, key, self._member_values(key, value))
        self.derive()

    def _member_values(self, key, value) -> np.ndarray:
        values = value["per_member"]
        B = self.context.batch_size
        if len(values) != B:
            raise ConfigError(f"{self.owner}.{key}.per_member has {len(values)} values; expected "
                              f"one per member (batch_size = {B})")
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            return np.asarray(values, dtype=np.float64)
        return list(values)  # structured values (e.g. weight specs), one per member

    def member_vector(self, value) -> np.ndarray:
        """A parameter as a float64 ``(B,)`` array (scalar or per-member)."""
        return np.broadcast_to(np.asarray(value, dtype=np.float64).reshape(-1),
                               (self.context.batch_size,)).copy()

    def member_column(self, value):
        """A parameter for ``(B, n)`` arithmetic: a dtype scalar, or a ``(B, 1)`` array."""
        if np.ndim(value) == 0:
            return self.context.dtype.type(value)
        return np.asarray(value, dtype=self.context.dtype).reshape(-1, 1)

    def derive(self) -> None:
        """Recompute constants derived from parameters (after ``set``)."""

    def reset(self) -> None:
        """Return run-time state to its start-of-episode values."""

    def set(self, key: str, value) -> None:
        """Change parameter ``key`` during a run (validated, not saved in config)."""
        declared = {k.name: k for k in self.KEYS}
        if key not in declared:
            raise ConfigError(f"{self.owner}: unknown key {key!r}{suggest(key, declared)}")
        if key in self.FIXED and self.context is not None:
            raise ConfigError(f"{self.owner}.{key} sets array shapes and cannot change after build")
        if is_per_member(value):
            fast = declared[key].check_floats(value["per_member"]) if (
                key in self.PER_MEMBER and self.context is not None) else None
            if fast is not None and fast.size == self.context.batch_size:
                # every value a plain float the key accepts (a schedule's each tick): checked
                # at once, the same outcome as the per-value checks below
                self.overrides[key] = {"per_member": list(value["per_member"])}
                value = fast
            else:
                checked = validate((declared[key],), {key: value}, self.owner,
                                   self.PER_MEMBER)[key]
                self.overrides[key] = checked
                value = self._member_values(key, checked) if self.context is not None \
                    else checked
        else:
            value = declared[key].check(value, self.owner)
            self.overrides[key] = value
        setattr(self, key, value)
        if self.context is not None:
            self.derive()
        self._revision = getattr(self, "_revision", 0) + 1  # readers of derived arrays re-read

    def state_arrays(self) -> dict:
        """Arrays that save/load carry, keyed by attribute name."""
        return {name: getattr(self, name) for name in self.STATE}


def resolve_part(family: str, part, slot: str) -> type:
    """Turn a class or a registered class name into a Part class."""
    if isinstance(part, type) and issubclass(part, Part):
        return part
    known = REGISTRY.get(family, {})
    if isinstance(part, str):
        if part in known:
            return known[part]
        raise ConfigError(
            f"parts.{slot}: unknown {family} part {part!r}{suggest(part, known)} "
            f"Known: {sorted(known)}"
        )
    raise ConfigError(f"parts.{slot}: expected a Part subclass or a registered name, got {part!r}")


class Activity:
    """Which members of a batch are in their episode: ``mask`` ``(B,)`` and ``all``.

    The network owns one and shares it through the build context; a training
    loop marks members whose episode ended (``network.active[b] = False``)
    while others play on. The network calls :meth:`refresh` at each tick's
    start, so per-step code reads the plain bool ``all``.
    """

    def __init__(self, batch_size: int):
        self.mask = np.ones(batch_size, dtype=bool)
        self.all = True

    def refresh(self) -> None:
        """Recompute ``all`` from ``mask``."""
        self.all = bool(self.mask.all())


_POOLS = {}  # (threads, process id) -> the ThreadPoolExecutor of RandomBlocks._split

#: the fewest numbers :func:`fill_uniforms` draws through ``random_raw`` (below it, reading the
#: generator's state costs more than the faster draw saves)
RAW_FILL_MIN = 1 << 16


def fill_uniforms(generator, out: np.ndarray) -> bool:
    """Fill ``out`` with ``generator.random(dtype=out.dtype, out=out)``'s numbers, faster.

    numpy's float32 fill costs ~1.8 ns a number on PCG64 (one call of ``next_uint32`` each);
    drawing the raw 64-bit outputs (``random_raw``) and converting them in a compiled loop
    (:func:`spikey.snn.kernels.uniforms_from_raw`) gives the same numbers in ~2/3 of the time,
    and leaves the generator in the same state (``has_uint32``, ``uinteger`` included).
    Only for a PCG64 generator, a C-contiguous float32 or float64 ``out`` of at least
    :data:`RAW_FILL_MIN` numbers (float32: an even count, with no half output buffered)
    and numba; returns False, having drawn nothing, otherwise.
    """
    size = out.size
    bits = generator.bit_generator
    if size < RAW_FILL_MIN or type(bits) is not np.random.PCG64 or \
            out.dtype not in (np.float32, np.float64) or not out.flags.c_contiguous:
        return False
    from spikey.snn import kernels

    if not kernels.AVAILABLE:
        return False
    if out.dtype == np.float64:  # next_double: one raw output each, no buffered half
        kernels.uniforms_from_raw(bits.random_raw(size), out)
        return True
    if size % 2 or bits.state["has_uint32"]:
        return False  # a buffered half would come first, or one would be left
    raw = bits.random_raw(size // 2)
    kernels.uniforms_from_raw(raw, out)
    # numpy's next_uint32 leaves the last output's high half in uinteger (not buffered)
    state = bits.state
    state["uinteger"] = int(raw[-1] >> np.uint64(32))
    bits.state = state
    return True


class RandomBlocks:
    """Per-member uniform random numbers handed out one step at a time.

    Drawing from ``B`` generators every step would cost ``B`` Python calls.
    Instead each member draws ``block`` steps at once from its own
    generator; the block size does not depend on ``B``, so member ``b`` of a
    batch sees exactly the numbers a solo network with the same seed sees.

    Each member keeps its own position. Members that ``activity`` marks as
    paused (their episode ended while others play on) do not advance, so when
    they resume they get the numbers their solo network would get next.

    Parameters
    ----------
    generators : list of numpy.random.Generator
        One per member.
    width : int
        Numbers needed per member per step.
    dtype : numpy.dtype
    block : int
        Steps drawn per refill.
    activity : Activity, optional
        The network's; None: every member always advances.
    """

    #: threads that refill and copy the members' numbers at once (the engine sets
    #: ``network.threads``; numpy releases the GIL while it fills and copies, and each
    #: member keeps its own generator, so the numbers are the same for any number)
    threads = 1

    #: refill large blocks through :func:`fill_uniforms` (numba; the same numbers): the engine
    #: of a compiled network sets it, so a network on the numpy path never starts numba
    raw_fill = False

    def __init__(self, generators, width: int, dtype, block: int = 256, activity=None):
        self.generators = generators
        self.width = int(width)
        # At most about 1 MB per member per block; depends on width only, not on B.
        self.block = max(1, min(int(block), (1 << 18) // max(self.width, 1)))
        B = len(generators)
        self.buffer = np.zeros((B, self.block, self.width), dtype=dtype)
        self.position = np.full(B, self.block, dtype=np.int64)
        self.activity = activity
        self._members = np.arange(B)
        self._together = True  # every member at the same position

    def _refill(self, members) -> None:
        self._split(self._fill, list(members))

    def _fill(self, members) -> None:
        for b in members:
            if not (self.raw_fill and fill_uniforms(self.generators[b], self.buffer[b])):
                self.generators[b].random(dtype=self.buffer.dtype, out=self.buffer[b])
            self.position[b] = 0

    def _split(self, work, members) -> None:
        """``work(members)``, with :attr:`threads` > 1 and enough numbers per member range
        in that many threads (one range each, the calling thread takes the first)."""
        parts = min(self.threads, len(members))
        if parts < 2 or len(members) * self.block * self.width < (1 << 16):
            work(members)
            return
        from concurrent.futures import ThreadPoolExecutor

        import os

        key = (parts, os.getpid())  # a forked child starts its own pool (no threads there)
        pool = _POOLS.get(key)
        if pool is None:
            pool = _POOLS[key] = ThreadPoolExecutor(parts - 1,
                                                    thread_name_prefix="spikey-random")
        bounds = [len(members) * p // parts for p in range(parts + 1)]
        futures = [pool.submit(work, members[bounds[p]:bounds[p + 1]]) for p in range(1, parts)]
        work(members[:bounds[1]])
        for future in futures:
            future.result()

    def _advance(self, steps: int = 1) -> None:
        activity = self.activity
        if activity is None or activity.all:
            self.position += steps
        else:
            self.position += steps * activity.mask
            self._together = False

    def next(self) -> np.ndarray:
        """The ``(B, width)`` uniforms in [0, 1) of this step (a view when members are in step)."""
        position = self.position
        if self._together:
            first = int(position[0])
            if first >= self.block:
                self._refill(range(len(self.generators)))
                first = 0
            out = self.buffer[:, first]
            self._advance()
            return out
        self._refill(np.flatnonzero(position >= self.block))
        out = self.buffer[self._members, position]
        self._advance()
        self._together = bool((position == position[0]).all())
        return out

    def take(self, steps: int, out: np.ndarray) -> np.ndarray:
        """The next ``steps`` steps' numbers at once into ``out`` ``(B, steps, width)``.

        Gives exactly what ``steps`` calls of :meth:`next` would, in order.
        """
        def copy(lo, hi, done, numbers):
            out[lo:hi, done:done + numbers.shape[1]] = numbers

        if not self.visit(steps, copy):
            for t in range(steps):
                out[:, t] = self.next()
        return out

    def visit(self, steps: int, work) -> bool:
        """Hand the next ``steps`` steps' numbers to ``work`` where they lie, without a copy.

        Calls ``work(lo, hi, done, numbers)`` for pieces of the buffer in order: ``numbers``
        ``(hi - lo, n, width)`` are members ``lo:hi``'s numbers of steps ``done .. done + n``
        (a view, valid during the call), exactly what :meth:`take` would put in
        ``out[lo:hi, done:done + n]``; with :attr:`threads` > 1 the member ranges of one piece
        may run in parallel threads. Returns False, having consumed nothing, when the members
        are not in step (paused members): the caller then uses :meth:`take`.
        """
        if not (self._together and (self.activity is None or self.activity.all)):
            return False
        position, done = self.position, 0
        members = list(range(len(self.generators)))
        while done < steps:
            if position[0] >= self.block:
                self._refill(members)
            start = int(position[0])
            n = min(self.block - start, steps - done)

            def piece(part, start=start, n=n, done=done):
                lo, hi = part[0], part[-1] + 1
                work(lo, hi, done, self.buffer[lo:hi, start:start + n])

            self._split(piece, members)
            position += n
            done += n
        return True

    def get_state(self) -> dict:
        """The buffer, position and generator states that save/load carry."""
        return {
            "buffer": self.buffer,
            "position": self.position,
            "generators": [g.bit_generator.state for g in self.generators],
        }

    def set_state(self, arrays: dict, generator_states: list) -> None:
        """Restore what :meth:`get_state` returned (bit-exactly)."""
        self.buffer[...] = arrays["buffer"]
        self.position[...] = arrays["position"]
        for g, s in zip(self.generators, generator_states):
            g.bit_generator.state = s
        self.resync()

    def resync(self) -> None:
        """Re-read whether every member is at the same position (after ``position`` is set)."""
        self._together = bool((self.position == self.position[0]).all())


def spread_mask(n: int, fraction: float) -> np.ndarray:
    """Boolean mask choosing ``round(n * fraction)`` of ``n`` items, evenly spread.

    Used for inhibitory fractions: with ``fraction=0.5`` every second item is
    chosen, so each contiguous input group is half inhibitory.
    """
    mask = np.zeros(n, dtype=bool)
    k = int(round(n * fraction))
    if k:
        mask[(np.arange(1, k + 1) * n) // k - 1] = True
    return mask
