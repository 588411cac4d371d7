"""Shared base of neuron parts.

A neuron part owns the body neurons' state, shape ``(B, n_neurons)``. Each
network step it receives the summed synaptic input of that step and returns
the spikes it fires. The last ``n_outputs`` body neurons are the outputs.
"""

from __future__ import annotations

import math

import numpy as np

from spikey.core.params import Key
from spikey.core.part import Part, RandomBlocks, spread_mask


class Neuron(Part):
    """Base class of neuron models.

    Subclasses implement ``step(synaptic_input) -> spikes`` where
    ``synaptic_input`` is ``(B, n_neurons)``, the summed signed weights of the
    spikes arriving this step, and ``spikes`` is a boolean ``(B, n_neurons)``
    array owned by the part (overwritten next step). A model that sets
    ``SPLIT_INPUT = True`` receives ``step(excitatory, inhibitory)`` instead:
    the sums over excitatory presynaptic neurons (>= 0) and over inhibitory
    ones (<= 0), e.g. to drive separate conductances.
    """

    ABSTRACT = True
    FIXED = ("n_neurons",)

    FAMILY = "neurons"
    SPLIT_INPUT = False
    KEYS = (
        Key("n_neurons", "int", "Number of body neurons (hidden and output).", range=(1, None)),
        Key("inhibitory_fraction", "float", "Fraction of body neurons whose spikes inhibit "
            "(Dale's law sign of outgoing spikes); chosen evenly spread.", 0.0, range=(0, 1)),
        Key("magnitude", "float", "Size of an outgoing spike (multiplies the weight).", 1.0,
            range=(0, None)),
    )

    def build(self, context):
        super().build(context)
        B, n = context.batch_size, self.n_neurons
        self.spikes = np.zeros((B, n), dtype=bool)
        # Signed size of each neuron's outgoing spike; the network scales the
        # weight rows of spiking neurons by it.
        self.polarity = np.where(spread_mask(n, self.inhibitory_fraction), -1.0, 1.0).astype(
            context.dtype
        ) * context.dtype.type(self.magnitude)

    def derive(self):
        if getattr(self, "polarity", None) is not None:
            sign = np.where(spread_mask(self.n_neurons, self.inhibitory_fraction), -1.0, 1.0)
            self.polarity[...] = sign * self.magnitude

    def reset(self):
        self.spikes[...] = False

    def step(self, synaptic_input: np.ndarray) -> np.ndarray:
        """Advance one network step with this step's input ``(B, N)`` (mV); return the spikes.

        The returned boolean ``(B, N)`` array is the part's own ``spikes``.
        """
        raise NotImplementedError

    def fire(self, mask: np.ndarray) -> np.ndarray:
        """Make the neurons in ``mask`` ``(B, N)`` spike this step (electric synapses).

        They join this step's spikes and ``on_forced_spike`` resets them as a
        spike would; returns the updated spikes.
        """
        fresh = mask & ~self.spikes
        self.spikes |= mask
        if fresh.any():
            self.on_forced_spike(fresh)
        return self.spikes

    def on_forced_spike(self, mask: np.ndarray) -> None:
        """Model-specific reset of neurons made to spike by :meth:`fire` (default: none)."""


class NoiseMixin:
    """Optional spontaneous firing and potential noise drawn from blocks."""

    def build_noise(self, context, width):
        """Create the per-member random blocks ``noise`` of ``width`` numbers per step."""
        self.noise = RandomBlocks(context.generators(f"{self.slot}.noise"), width, context.dtype,
                                  activity=context.activity)


def refractory_steps(refractory: float, dt: float) -> int:
    """Whole network steps covered by a refractory period of ``refractory`` ms.

    The steps counted are those after the spike step (see :class:`RefractoryClock`).
    """
    return int(math.ceil(refractory / dt - 1e-9))


class RefractoryClock:
    """Per-neuron refractory counters, ``(B, N)``, shared by the integrate-and-fire models.

    A neuron that spikes at step ``t`` with ``steps = ceil(refractory / dt)``
    ignores input on steps ``t+1 .. t+steps`` and may fire again at ``t+steps+1``:
    the period starts *after* the spike step, so the shortest inter-spike
    interval is ``refractory + dt`` (for a period that is a whole number of
    steps), where Brian2's ``refractory=R`` gives ``R``.

    Call :meth:`tick` at the start of a step: ``open`` then marks the neurons
    that take input and may fire this step, ``closed`` the others, and the
    closed ones count one step down. Call :meth:`start` with the step's
    spikes (already masked by ``open``) to begin their periods.

    Parameters
    ----------
    shape : tuple
        ``(B, N)``.
    """

    def __init__(self, shape):
        #: Steps each neuron still ignores input (a part's saved state).
        self.left = np.zeros(shape, dtype=np.int32)
        self.open = np.ones(shape, dtype=bool)
        self.closed = np.zeros(shape, dtype=bool)

    def tick(self) -> None:
        """Start a step: mark open/closed neurons and count the closed ones down."""
        np.less_equal(self.left, 0, out=self.open)
        np.logical_not(self.open, out=self.closed)
        self.left -= self.closed

    def start(self, spikes: np.ndarray, steps) -> None:
        """Begin a period of ``steps`` (an int or a ``(B, N)`` array) where ``spikes``."""
        np.copyto(self.left, steps, where=spikes, casting="unsafe")

    def reset(self) -> None:
        """Every neuron open, no period running."""
        self.left[...] = 0
        self.open[...] = True
        self.closed[...] = False
