"""Shared base of input parts.

An input part turns one game observation per member into input spikes.
``encode(state)`` takes the batch of observations (leading axis ``B``);
the network calls it once per tick through ``present(state)``, which then
lets the part start the tick's spike trains (``begin_tick()``). ``step()`` is
called every network step and returns a boolean ``(B, n_inputs)`` spike array
owned by the part.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.core.part import Part, RandomBlocks, spread_mask
from spikey.snn import kernels


class Input(Part):
    """Base class of inputs: size, inhibitory fraction and spike magnitude."""

    ABSTRACT = True
    FIXED = ("n_inputs", "n_dims", "n_per_dim", "n_patterns", "train_steps", "trains")

    FAMILY = "inputs"
    KEYS = (
        Key("inhibitory_fraction", "float", "Fraction of input neurons whose spikes inhibit; "
            "chosen evenly spread so each input group gets its share.", 0.0, range=(0, 1)),
        Key("magnitude", "float", "Size of an input spike (multiplies the weight).", 1.0,
            range=(0, None)),
    )

    @property
    def n_inputs(self) -> int:
        """Number of input neurons."""
        return self.config["n_inputs"]

    def build(self, context):
        """Allocate the ``(B, n_inputs)`` spike array and the inputs' polarity."""
        super().build(context)
        self.spikes = np.zeros((context.batch_size, self.n_inputs), dtype=bool)
        self.polarity = np.zeros(self.n_inputs, dtype=context.dtype)
        self.derive()

    def derive(self):
        """Recompute each input's signed spike size from ``inhibitory_fraction`` and ``magnitude``.
        """
        if getattr(self, "polarity", None) is not None:
            sign = np.where(spread_mask(self.n_inputs, self.inhibitory_fraction), -1.0, 1.0)
            self.polarity[...] = sign * self.magnitude

    def reset(self):
        """Clear the spikes."""
        self.spikes[...] = False

    def encode(self, state) -> None:
        """Take one observation per member (leading axis ``B``) for the coming tick.

        Raises
        ------
        ValueError
            When the batch has the wrong shape or values the part cannot encode.
        """
        raise NotImplementedError

    def present(self, state) -> None:
        """Start a tick on new observations: :meth:`encode` them, then :meth:`begin_tick`.

        Parameters
        ----------
        state : array-like
            One observation per member, leading axis ``B``.
        """
        self.encode(state)
        self.begin_tick()

    def begin_tick(self) -> None:
        """Hook run after each tick's :meth:`encode` (nothing by default)."""

    def step(self) -> np.ndarray:
        """This step's input spikes, a boolean ``(B, n_inputs)`` array owned by the part."""
        raise NotImplementedError

    def steps(self, count: int, out: np.ndarray) -> np.ndarray:
        """The spikes of the next ``count`` steps into ``out`` ``(B, count, n_inputs)``.

        Equal to ``count`` calls of :meth:`step` (which is how this default
        does it); parts may compute them at once.
        """
        for t in range(count):
            out[:, t] = self.step()
        return out

    def _pixels(self, state, n_pixels: int) -> np.ndarray:
        """Pixel intensities as a float ``(B, n_pixels)`` array, checked to lie in ``[0, 1]``."""
        x = self._batched(state, n_pixels)
        if x.min() < 0.0 or x.max() > 1.0:
            raise ValueError(
                f"{self.owner}: pixel intensities span [{x.min():g}, {x.max():g}]; expected values "
                "in [0, 1] (divide raw bytes by 255, sklearn digits by 16)")
        return x

    def _batched(self, state, dims: int | None = None) -> np.ndarray:
        """Observations as a float ``(B, d)`` array, checked against the batch."""
        arr = np.asarray(state, dtype=np.float64)
        B = self.context.batch_size
        if arr.ndim == 0 or (arr.ndim == 1 and B == 1 and arr.shape[0] != 1 and dims != 1):
            arr = arr.reshape(1, -1)
        if arr.ndim == 1:
            arr = arr.reshape(B, -1) if arr.shape[0] == B else arr.reshape(1, -1)
        if arr.ndim != 2 or arr.shape[0] != B:
            raise ValueError(
                f"{self.owner}: observation batch has shape {np.shape(state)}; expected a "
                f"leading batch axis of {B} (shape ({B}, d))"
            )
        if dims is not None and arr.shape[1] != dims:
            raise ValueError(
                f"{self.owner}: observation has {arr.shape[1]} values per member; expected {dims}"
            )
        if np.count_nonzero(np.isfinite(arr)) != arr.size:  # cheaper than np.all on a few values
            raise ValueError(f"{self.owner}: observation contains NaN or infinity: {arr!r}")
        return arr


SPIKE_MODEL = Key(
    "spike_model", "str", "How a rate becomes spikes: 'poisson' (a Bernoulli trial of "
    "probability rate*dt each step), 'regular' (deterministic: a phase grows by rate*dt each "
    "step and the input spikes when it reaches 1; phases carry over from tick to tick) or "
    "'regular-tick' (regular, but every tick restarts each input at its own fixed phase, drawn "
    "once per member from the seed: a tick's spikes depend on its observation only).",
    "poisson", choices=("poisson", "regular", "regular-tick"))


class _RateCoded:
    """Mixin: spikes from a per-input probability ``rate * dt`` each step.

    Parts using it declare :data:`SPIKE_MODEL` and fill ``self.probability``
    in ``encode``. Poisson draws come from the part's own random blocks.

    Regular trains count spikes with a phase per input. With ``'regular'`` the
    phase runs on across ticks, so the number of spikes an input sends in a
    tick of fixed observation still varies by one from tick to tick, and every
    neuron it drives sees that variation at once (measured on the CartPole
    actor-critic: the critic's value varies with sd 1.0 at a fixed observation
    although it averages 100 neurons). ``'regular-tick'`` restarts the phases
    at fixed per-member offsets (uniform in [0, 1), from the stream
    ``<slot>.phase``) at every tick: sd 0.29 on the same network.
    """

    def build_random(self, context):
        self.random = RandomBlocks(context.generators(f"{self.slot}.spikes"), self.n_inputs,
                                   context.dtype, activity=context.activity)
        self.probability = np.zeros((context.batch_size, self.n_inputs), dtype=context.dtype)
        self.phase = np.zeros((context.batch_size, self.n_inputs), dtype=context.dtype)
        self.phase_offset = np.stack([g.random(self.n_inputs) for g in
                                      context.generators(f"{self.slot}.phase")]).astype(context.dtype)

    def reset(self):
        super().reset()
        self.phase[...] = self.phase_offset if self.spike_model == "regular-tick" else 0.0

    def begin_tick(self):
        """``'regular-tick'``: restart every input's phase at its offset."""
        if self.spike_model == "regular-tick":
            self.phase[...] = self.phase_offset

    def steps(self, count, out):
        if self.spike_model != "poisson":
            if not self.context.kernels:
                return super().steps(count, out)
            kernels.regular_steps(self.phase, self.probability, out,
                                  self.phase.dtype.type(1.0))
            self.spikes[...] = out[:, -1]
            return out
        probability = self.probability[:, None, :]

        def spikes(lo, hi, done, numbers):  # straight from the random buffer: no copy
            np.less(numbers, probability[lo:hi], out=out[lo:hi, done:done + numbers.shape[1]])

        if not self.random.visit(count, spikes):  # members out of step: through a copy
            buffer = np.empty((out.shape[0], count, self.n_inputs), self.random.buffer.dtype)
            np.less(self.random.take(count, buffer), probability, out=out)
        self.spikes[...] = out[:, -1]
        return out

    def poisson_source(self):
        """``(random, probability)`` when the coming steps' spikes are Poisson draws, step
        ``t``'s ``random`` numbers ``u < probability`` as :meth:`steps` makes them (the
        compiled tick may then draw them itself: :func:`spikey.snn.engine.poisson_draws`);
        None for regular trains or a subclass with its own ``steps``."""
        if self.spike_model != "poisson" or type(self).steps is not _RateCoded.steps:
            return None
        return self.random, self.probability

    def step(self):
        if self.spike_model != "poisson":
            self.phase += self.probability
            np.greater_equal(self.phase, 1.0, out=self.spikes)
            self.phase -= self.spikes
        else:
            np.less(self.random.next(), self.probability, out=self.spikes)
        return self.spikes


def dim_bounds(part) -> tuple:
    """``(low, high)`` of a part's ``low``/``high`` keys, as ``(n_dims,)`` arrays.

    Each key is a scalar or one value per dim; every dim needs finite bounds
    with high > low, else ConfigError names both keys.
    """
    try:
        low = np.broadcast_to(np.asarray(part.low, dtype=np.float64), (part.n_dims,))
        high = np.broadcast_to(np.asarray(part.high, dtype=np.float64), (part.n_dims,))
    except ValueError:
        low = high = np.full(part.n_dims, np.nan)
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and np.all(high > low)):
        raise ConfigError(
            f"{part.owner}: low={part.low} and high={part.high}; expected a scalar or "
            f"{part.n_dims} finite values each, with high > low in every dim"
        )
    return low, high


def check_groups(owner: str, n_inputs: int, dims: int) -> int:
    """Input neurons per observation value when ``n_inputs`` splits evenly over ``dims``.

    Raises
    ------
    ConfigError
        When ``n_inputs`` is not a multiple of ``dims``.
    """
    if n_inputs % dims:
        raise ConfigError(
            f"{owner}: n_inputs = {n_inputs} cannot be split evenly over {dims} observation "
            f"values; expected a multiple of {dims}"
        )
    return n_inputs // dims
