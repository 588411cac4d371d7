r"""Precise (off-grid) spike timing: an engine mode beside the grid network.

The grid :class:`~spikey.snn.network.Network` moves every spike to a multiple
of ``network.dt``. :class:`PreciseNetwork` runs the same config with
continuous spike times, in the manner of NEST's ``iaf_psc_delta_ps``: the
network still advances step by step (the batch axis ``(B, ...)`` and the
declared keys are kept), but inside a step each neuron integrates its own
input events in time order with the closed-form solution between them, a
spike carries its exact time (its step and its sub-step ``offset``), and
it reaches each target after an exact, continuous delay. There is no clock
in the dynamics: ``dt`` only decides how events are batched, never where a
spike lands (the results do not depend on ``dt``).

Model (LIF with exponential leak and delta synapses), per neuron,

.. math::

    \tau \frac{dV}{dt} = V_\infty - V + \tau \sum_i w_i\, \delta(t - t_i),

so between events :math:`V(t) = V_\infty + (V(t_0) - V_\infty)\, e^{-(t - t_0)/\tau}`,
an arriving spike adds its signed weight :math:`w` at once, and the neuron
fires when :math:`V \ge \theta`: at the arrival itself, or, when the constant
drive holds it above threshold (:math:`V_\infty > \theta`, key
``bias_potential``), at the exact crossing

.. math::

    t^* = t_0 + \tau \ln \frac{V_\infty - V(t_0)}{V_\infty - \theta} .

After a spike at :math:`t_s` the potential is ``reset_potential`` and held
there for ``refractory`` ms: inputs arriving in :math:`[t_s, t_s + R)` are
ignored, one arriving at :math:`t_s + R` counts (so the shortest
inter-spike interval is :math:`R`, as in Brian2 and NEST, where the grid
LIF gives :math:`R + \Delta t`). Inputs arriving at the same instant at the
same neuron are summed before the threshold is checked.

A spike of body neuron :math:`j` at :math:`t` reaches body neuron :math:`k`
at :math:`t + d + e_{jk}\Delta t`, where :math:`d` is ``precise.delay``
(``precise.input_delay`` for input neurons) and :math:`e_{jk}` the weight
part's integer ``delays`` (steps). Body delays must be at least ``dt``
(NEST's min-delay rule), so the spikes of a step only reach later steps and
the neurons of a step are independent of one another. The weight a spike
carries is read when it leaves, as on the grid.

Learning (optional ``STDP`` or ``LTP`` synapses, while training): the
all-to-all pair rule on exact times, with exponential traces evaluated at
event times. A pre spike at :math:`t_j` and a post spike at :math:`t_k`
change the weight by :math:`\eta A_+ e^{-(t_k - t_j)/\tau_+}` when
:math:`t_j \le t_k` and by :math:`\eta A_- e^{-(t_j - t_k)/\tau_-}` when
:math:`t_k < t_j` (a pair at the same instant counts once, as
potentiation: the classic pair rule; the grid gives :math:`A_+ + A_-`).
A spike's time here is when its neuron fired (the jitter lag delays only
its delivery). The changes of a step are summed, applied and clipped at
the end of the step: an input spike leaves with the weights of the step's
start, a body spike with the weights after its step's changes (on the grid
too, a body spike is propagated on the step after it). The pair terms
themselves do not depend on ``dt``.
Learning follows ``network.train()`` / ``network.eval()``; every member
learns (the grid's per-member ``active`` and ``plastic`` switches and
rewards are not used here).

Natural noise (``precise.jitter``, the FLUX seed's event-loop jitter): each
spike leaves its neuron after an extra lag drawn uniformly from
``[0, jitter)`` ms (one bound, or one per body neuron), one draw per spike,
from the member's own generator
(stream ``"precise.jitter"``), in the order of the member's spikes by
neuron then time, so member ``b`` of a batch equals its solo network.
The neuron itself fires and resets at the exact crossing.

State is float64 whatever ``network.dtype`` (the weights are read from the
weight part and converted).

Use: the same config as :meth:`Network.from_config
<spikey.snn.network.Network.from_config>`, plus an optional ``"precise"``
section (:data:`PRECISE_KEYS`)::

    net = PreciseNetwork.from_config(config)
    trains = net.run(100.0, rates=20.0)      # or inputs=(member, input, time)
    trains.time[trains.member == 0]

The leaky vessel (``ModulatedLIF``, the seed's own neuron) runs too, with
its linear leak: between events :math:`L(t) = \operatorname{sign}(L_0)
\max(|L_0| - \lambda (t - t_0), 0)`, it fires when an arrival lifts
:math:`L` to ``threshold`` and returns to the baseline 0. Its bursts,
habituation, potentiation and modulation are step rules with no
continuous-time form here: they must be off (``max_burst``,
``habituation_rate``, ``potentiation_rate`` 0, no modulatory synapses), and
``bias_potential`` must be 0.

Supported parts: neurons ``LIF`` without noise (``spontaneous_rate`` and
``potential_noise`` 0) or ``ModulatedLIF`` as above; any dense weight part
without synapse types; no short-term plasticity; synapses ``STDP``, ``LTP`` or none. Inputs are
spike times (given, or Poisson trains at constant rates); the config's
input part gives only the number of inputs and their polarity. Anything
else gets a :class:`~spikey.core.params.ConfigError` naming the key.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from spikey.core.params import ConfigError, Key, validate

#: Keys of the ``"precise"`` config section.
PRECISE_KEYS = (
    Key("delay", "float", "Transmission delay of body -> body synapses (ms); at least "
        "network.dt (a spike reaches later steps only).", 1.0, range=(1e-9, None)),
    Key("input_delay", "float", "Transmission delay of input -> body synapses (ms).", 0.0,
        range=(0, None)),
    Key("bias_potential", "float", "V_inf: the potential a constant input current holds a "
        "neuron at (mV above rest), dV/dt = (V_inf - V) / tau between spikes; 0: no current.",
        0.0),
    Key("jitter", ("float", "list"), "Largest extra lag (ms) of a spike's departure, drawn "
        "uniformly from [0, jitter) per spike (stream 'precise.jitter'): one bound, or one per "
        "body neuron; 0: none.", 0.0, range=(0, None)),
)


class SpikeTrains(NamedTuple):
    """Spikes with their exact times, sorted by member, then time, then neuron.

    Attributes
    ----------
    member : numpy.ndarray
        ``(S,)`` int, the batch member of each spike.
    neuron : numpy.ndarray
        ``(S,)`` int, the body neuron.
    time : numpy.ndarray
        ``(S,)`` float64, the spike time in ms (network time).
    step : numpy.ndarray
        ``(S,)`` int, the network step the spike falls in (``floor(time / dt)``).
    offset : numpy.ndarray
        ``(S,)`` float64, the sub-step offset ``time - step * dt`` in ``[0, dt)``.
    """

    member: np.ndarray
    neuron: np.ndarray
    time: np.ndarray
    step: np.ndarray
    offset: np.ndarray

    def times(self, member: int, neuron: int) -> np.ndarray:
        """The sorted spike times (ms) of one neuron of one member.

        Parameters
        ----------
        member, neuron : int
            Which member and body neuron.

        Returns
        -------
        numpy.ndarray
            float64 times.
        """
        return self.time[(self.member == member) & (self.neuron == neuron)]


def _check_duration(duration) -> float:
    if isinstance(duration, bool) or not isinstance(duration, numbers.Real) \
            or not math.isfinite(duration) or duration <= 0:
        raise ConfigError(f"run: duration = {duration!r}; expected a finite number of ms > 0")
    return float(duration)


def _empty_events():
    return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))


class PreciseNetwork:
    """A network run with exact, continuous spike times (see the module docstring).

    Parameters
    ----------
    network : Network
        A built grid network; its parts (weights, neuron keys, seeds, batch
        size, ``dt``) are used, its weight matrix is shared (learning writes it).
    precise : dict, optional
        The ``"precise"`` section, keys :data:`PRECISE_KEYS`.

    Raises
    ------
    ConfigError
        For an unsupported part or key value (named in the message).

    Examples
    --------
    >>> config = {"parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "Manual",
    ...                     "readout": "Threshold"},
    ...           "network": {"reward_mode": "none"},
    ...           "inputs": {"n_inputs": 1, "n_dims": 1, "rate_map": [0.0, 0.0]},
    ...           "neurons": {"n_neurons": 1, "threshold": 1.0},
    ...           "weights": {"matrix": [[1.5], [0.0]]}, "readout": {"n_outputs": 1},
    ...           "precise": {"input_delay": 0.25}}
    >>> net = PreciseNetwork.from_config(config)
    >>> trains = net.run(5.0, inputs=([0], [0], [1.3]))
    >>> float(trains.time[0]), int(trains.step[0]), round(float(trains.offset[0]), 12)
    (1.55, 1, 0.55)
    """

    def __init__(self, network, precise: dict | None = None):
        from spikey.snn.network import Network
        from spikey.snn.neuron.lif import LIF
        from spikey.snn.neuron.modulated_lif import ModulatedLIF
        from spikey.snn.synapse.stdp import LTP, STDP

        if not isinstance(network, Network):
            raise ConfigError(f"PreciseNetwork: network must be a built Network, got "
                              f"{type(network).__name__}")
        self.config = validate(PRECISE_KEYS, precise, "precise")
        for name, value in self.config.items():
            setattr(self, name, value)
        self.network = net = network
        neurons, weights = net.parts["neurons"], net.parts["weights"]
        if type(neurons) not in (LIF, ModulatedLIF):
            raise ConfigError(f"parts.neurons = {type(neurons).__name__!r}: precise timing runs "
                              "'LIF' (exponential leak) or 'ModulatedLIF' (linear leak); "
                              "expected one of them")
        #: whether the neurons leak linearly (ModulatedLIF) rather than exponentially (LIF)
        self.linear_leak = type(neurons) is ModulatedLIF
        if self.linear_leak:
            for key in ("max_burst", "habituation_rate", "potentiation_rate"):
                if getattr(neurons, key) != 0:
                    raise ConfigError(f"neurons.{key} = {getattr(neurons, key)!r}: precise timing "
                                      "runs the leaky vessel's leak, threshold and refractory "
                                      "period only; expected 0")
            if self.bias_potential != 0:
                raise ConfigError(f"precise.bias_potential = {self.bias_potential!r}: a constant "
                                  "drive is for LIF; expected 0 with ModulatedLIF")
        else:
            for key in ("spontaneous_rate", "potential_noise"):
                if getattr(neurons, key) != 0:
                    raise ConfigError(f"neurons.{key} = {getattr(neurons, key)!r}: precise timing "
                                      "has no per-step noise; expected 0 (use precise.jitter)")
        if getattr(weights, "SPARSE", False):
            raise ConfigError(f"parts.weights = {type(weights).__name__!r}: precise timing reads "
                              "a dense weight matrix; expected a dense weight part")
        if weights.type_matrix is not None:
            raise ConfigError("weights.synapse_types: precise timing has chemical synapses only; "
                              "expected no synapse_types")
        if net.parts["stp"] is not None:
            raise ConfigError("parts.stp: precise timing has no short-term plasticity; expected "
                              "no 'stp' part")
        synapses = net.parts["synapses"]
        if synapses is not None and type(synapses) not in (STDP, LTP):
            raise ConfigError(f"parts.synapses = {type(synapses).__name__!r}: precise timing "
                              "learns with pair STDP; expected 'STDP', 'LTP' or none")
        self.dt = float(net.dt)
        if self.delay < self.dt - 1e-12:
            raise ConfigError(f"precise.delay = {self.delay!r} ms is shorter than network.dt = "
                              f"{self.dt!r} ms; expected delay >= dt (a spike must reach a later "
                              "step)")
        B, n_in, N = net.batch_size, net.n_inputs, net.n_neurons
        bound = np.asarray(self.jitter, dtype=object if isinstance(self.jitter, list) else None)
        if bound.ndim and (bound.shape != (N,) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < math.inf
                for v in bound)):
            raise ConfigError(f"precise.jitter = {self.jitter!r}: expected a number >= 0 or a list "
                              f"of {N} numbers >= 0 (one per body neuron)")
        self._jitter_bound = bound.astype(np.float64)
        self.batch_size, self.n_inputs, self.n_neurons = B, n_in, N
        self._neurons, self._weights, self._synapses = neurons, weights, synapses
        self._jitter_generators = net.context.generators("precise.jitter")
        self._input_generators = net.context.generators("precise.inputs")
        self._read_parameters()
        self.reset()

    @classmethod
    def from_config(cls, config: dict) -> "PreciseNetwork":
        """Build from a network config with an optional ``"precise"`` section.

        Parameters
        ----------
        config : dict
            What :meth:`Network.from_config <spikey.snn.network.Network.from_config>`
            takes, plus ``"precise"`` (:data:`PRECISE_KEYS`).

        Returns
        -------
        PreciseNetwork
        """
        from spikey.snn.network import Network

        if not isinstance(config, dict):
            raise ConfigError(f"config must be a dict, got {type(config).__name__}")
        rest = {k: v for k, v in config.items() if k != "precise"}
        return cls(Network.from_config(rest), config.get("precise"))

    # ---------------------------------------------------------------- state
    def _read_parameters(self):
        """Per-member and per-neuron constants from the parts (re-read every run)."""
        net, neurons = self.network, self._neurons
        B, N = self.batch_size, self.n_neurons

        def grid(value):
            value = np.asarray(value, dtype=np.float64)
            return np.ascontiguousarray(np.broadcast_to(
                value.reshape(-1, 1) if value.ndim == 1 else value, (B, N)))

        if self.linear_leak:  # the vessel: threshold, leak rate; the level resets to baseline
            self._tau = None
            self._leak = float(neurons.leak)
            self._theta = grid(neurons.threshold)
            self._reset_value = 0.0
        else:
            self._tau = grid(neurons.tau)
            self._theta = grid(neurons.threshold)
            self._reset_value = float(neurons.reset_potential)
        if np.any(self._reset_value >= self._theta):
            raise ConfigError(f"neurons.reset_potential = {self._reset_value!r} is not below "
                              "neurons.threshold; precise timing expects reset < threshold")
        self._refractory = float(neurons.refractory)
        self._vinf = float(self.bias_potential)
        self._driven = bool(np.any(self._vinf > self._theta))
        polarity = np.concatenate([np.asarray(net.parts["inputs"].polarity, np.float64),
                                   np.asarray(neurons.polarity, np.float64)])
        self._polarity = polarity
        base = np.full(self.n_inputs + N, float(self.delay))
        base[:self.n_inputs] = self.input_delay
        self._base_delay = base
        extra = self._weights.delay_matrix
        self._extra_delay = None if extra is None else extra.astype(np.float64) * self.dt
        syn = self._synapses
        if syn is not None:
            self._eta = syn.member_vector(syn.learning_rate)
            self._a_plus = syn.member_vector(syn.A_plus)
            self._a_minus = syn.member_vector(getattr(syn, "A_minus", 0.0))
            self._tau_plus = syn.member_vector(syn.tau_plus)
            self._tau_minus = syn.member_vector(syn.tau_minus)
            self._pre_sign = np.where(polarity < 0, -1.0, 1.0)

    def reset(self) -> None:
        """Back to rest at time 0: potentials 0, no spikes in flight, traces 0; weights kept."""
        B, N, P = self.batch_size, self.n_neurons, self.n_inputs + self.n_neurons
        self.step_index = 0
        #: potential (mV) of each neuron at its own time ``_since``
        self.potential = np.zeros((B, N))
        self._since = np.zeros((B, N))
        self._refractory_end = np.full((B, N), -np.inf)
        self._arrivals = {}  # step -> list of (member, target, time, weight)
        self._departures = {}  # step -> list of (member, input, time): input spikes to send
        self.pre_trace = np.zeros((B, P))  # value at the start of the current step
        self.post_trace = np.zeros((B, N))

    @property
    def time(self) -> float:
        """The network time (ms) reached: the start of the next step."""
        return self.step_index * self.dt

    # ---------------------------------------------------------------- inputs
    def poisson_inputs(self, rates, duration: float) -> tuple:
        """Poisson input spike times at constant rates, from each member's own generator.

        Parameters
        ----------
        rates : float or array-like
            Hz: one rate, one per input ``(n_inputs,)``, or ``(B, n_inputs)``.
        duration : float
            ms; times fall in ``[0, duration)``.

        Returns
        -------
        tuple
            ``(member, input, time)`` arrays as :meth:`run` takes them.
        """
        B, n_in = self.batch_size, self.n_inputs
        duration = _check_duration(duration)
        try:
            rates = np.broadcast_to(np.asarray(rates, dtype=np.float64), (B, n_in))
        except (ValueError, TypeError):
            raise ConfigError(f"run: rates has shape {np.shape(rates)}; expected a number, "
                              f"({n_in},) or ({B}, {n_in}) Hz") from None
        if not np.all(np.isfinite(rates)) or np.any(rates < 0):
            raise ConfigError("run: rates must be finite and >= 0 Hz")
        members, inputs, times = [], [], []
        for b, rng in enumerate(self._input_generators):  # one draw per member, not per step
            counts = rng.poisson(rates[b] * duration / 1000.0)
            members.append(np.full(counts.sum(), b))
            inputs.append(np.repeat(np.arange(n_in), counts))
            times.append(rng.uniform(0.0, duration, counts.sum()))
        return np.concatenate(members), np.concatenate(inputs), np.concatenate(times)

    def _check_inputs(self, inputs, duration):
        try:
            member, index, time = (np.asarray(a) for a in inputs)
            time = time.astype(np.float64)
        except (TypeError, ValueError):
            raise ConfigError("run: inputs must be (member, input, time) arrays of integers, "
                              "integers and ms") from None
        if not (member.shape == index.shape == time.shape) or member.ndim != 1:
            raise ConfigError(f"run: inputs (member, input, time) have shapes {member.shape}, "
                              f"{index.shape}, {time.shape}; expected three equal 1-d shapes")
        if member.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        if not (np.issubdtype(member.dtype, np.integer) and np.issubdtype(index.dtype, np.integer)):
            raise ConfigError("run: inputs member and input must be integer arrays")
        for name, values, size in (("member", member, self.batch_size),
                                   ("input index", index, self.n_inputs)):
            bad = values[(values < 0) | (values >= size)]
            if bad.size:
                raise ConfigError(f"run: inputs {name} {int(bad[0])} is out of range; expected "
                                  f"0 .. {size - 1}")
        bad = time[~(np.isfinite(time) & (time >= 0) & (time < duration))]
        if bad.size:
            raise ConfigError(f"run: inputs time {float(bad[0])!r} ms; expected finite times in "
                              f"[0, duration = {duration}) ms, relative to the run's start")
        return member.astype(np.int64), index.astype(np.int64), time

    # ---------------------------------------------------------------- running
    def run(self, duration: float, inputs=None, rates=None) -> SpikeTrains:
        """Run ``duration`` ms (a whole number of steps) and return the body spikes.

        Parameters
        ----------
        duration : float
            ms, a multiple of ``network.dt``.
        inputs : tuple of arrays, optional
            ``(member, input, time)``: input spike times in ms from the start of
            this run, in ``[0, duration)``.
        rates : float or array-like, optional
            Poisson rates (Hz) instead of ``inputs`` (:meth:`poisson_inputs`).

        Returns
        -------
        SpikeTrains
            The spikes of this run, times in network time.
        """
        duration = _check_duration(duration)
        n_steps = int(round(duration / self.dt))
        if n_steps < 1 or abs(n_steps * self.dt - duration) > 1e-9 * max(1.0, duration):
            raise ConfigError(f"run: duration = {duration!r} ms is not a whole number of "
                              f"network.dt = {self.dt!r} ms steps")
        if inputs is not None and rates is not None:
            raise ConfigError("run: give inputs or rates, not both")
        self._read_parameters()
        start = self.time
        if rates is not None:
            inputs = self.poisson_inputs(rates, duration)
        if inputs is not None:
            member, index, time = self._check_inputs(inputs, duration)
            time = time + start
            step = np.maximum(np.floor(time / self.dt).astype(np.int64), self.step_index)
            self._bucket(self._departures, step, (member, index, time))
        record = []
        for _ in range(n_steps):
            record.append(self._step())
        if record:
            member, neuron, time = (np.concatenate(a) for a in zip(*record))
        else:
            member, neuron, time = _empty_events()[:3]
        order = np.lexsort((neuron, time, member))
        member, neuron, time = member[order], neuron[order], time[order]
        step = np.floor(time / self.dt).astype(np.int64)
        return SpikeTrains(member, neuron, time, step, time - step * self.dt)

    @staticmethod
    def _bucket(buckets, step, arrays):
        """File events under the step they fall in."""
        if not step.size:
            return
        order = np.argsort(step, kind="stable")
        step = step[order]
        arrays = [a[order] for a in arrays]
        bounds = np.concatenate(([0], np.flatnonzero(step[1:] != step[:-1]) + 1, [step.size]))
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            buckets.setdefault(int(step[lo]), []).append(tuple(a[lo:hi] for a in arrays))

    def _send(self, member, source, time, earliest_step):
        """Fan spikes (presynaptic rows ``source``, leaving at ``time``) out to their targets."""
        if not member.size:
            return
        W = self._weights.matrix
        rows = W[member, source].astype(np.float64) * self._polarity[source, None]
        s, target = np.nonzero(rows)
        if not s.size:
            return
        weight = rows[s, target]
        arrival = time[s] + self._base_delay[source[s]]
        if self._extra_delay is not None:
            arrival = arrival + self._extra_delay[member[s], source[s], target]
        step = np.maximum(np.floor(arrival / self.dt).astype(np.int64), earliest_step)
        self._bucket(self._arrivals, step, (member[s], target, arrival, weight))

    def _step(self):
        n, dt = self.step_index, self.dt
        end = (n + 1) * dt
        N = self.n_neurons
        inputs = self._departures.pop(n, None)
        in_member, in_index, in_time = (np.concatenate(a) for a in zip(*inputs)) if inputs \
            else _empty_events()[:3]
        in_index = in_index.astype(np.int64)
        self._send(in_member, in_index, in_time, n)
        self._spikes = []
        arrivals = self._arrivals.pop(n, None)
        if arrivals:
            member, target, time, weight = (np.concatenate(a) for a in zip(*arrivals))
            flat = member * N + target
            order = np.lexsort((time, flat))
            flat, time, weight = flat[order], time[order], weight[order]
            # inputs reaching one neuron at one instant act together
            new = np.ones(flat.size, dtype=bool)
            new[1:] = (flat[1:] != flat[:-1]) | (time[1:] != time[:-1])
            starts = np.flatnonzero(new)
            flat, time, weight = flat[starts], time[starts], np.add.reduceat(weight, starts)
            first = np.ones(flat.size, dtype=bool)
            first[1:] = flat[1:] != flat[:-1]
            group = np.flatnonzero(first)
            rank = np.arange(flat.size) - np.repeat(group, np.diff(np.append(group, flat.size)))
            for r in range(int(rank.max()) + 1):  # the r-th event of every neuron at once
                pick = rank == r
                self._event(flat[pick], time[pick], weight[pick])
        if self._driven:
            self._advance(np.arange(self.batch_size * N), np.full(self.batch_size * N, end))
        if self._spikes:
            sm, sk, st = (np.concatenate(a) for a in zip(*self._spikes))
        else:
            sm, sk, st = _empty_events()[:3]
        departure = self._jittered(sm, sk, st)
        if self._synapses is not None and self.network.training:
            self._learn(in_member, in_index, in_time, sm, sk, st)
        self._send(sm, sk + self.n_inputs, departure, n + 1)
        self.step_index += 1
        return sm, sk, st

    def _jittered(self, member, neuron, time):
        """Departure times: spike times plus a per-spike lag in ``[0, jitter)``."""
        if not np.any(self._jitter_bound > 0) or not member.size:
            return time
        order = np.lexsort((time, neuron, member))
        lag = np.empty(member.size)
        sorted_member = member[order]
        for b in np.unique(sorted_member):  # each member draws from its own stream
            where = order[sorted_member == b]
            lag[where] = self._jitter_generators[b].random(where.size)
        bound = self._jitter_bound
        return time + lag * (bound[neuron] if bound.ndim else bound)

    def _value(self, flat, t):
        """Potentials of neurons ``flat`` (flat ``b * N + k``) evolved to times ``t``."""
        since = self._since.flat[flat]
        elapsed = np.maximum(t - since, 0.0)  # a held (refractory) neuron keeps its value
        if self.linear_leak:  # towards the baseline at a constant rate, never past it
            level = self.potential.flat[flat]
            return np.sign(level) * np.maximum(np.abs(level) - self._leak * elapsed, 0.0)
        vinf = self._vinf
        return vinf + (self.potential.flat[flat] - vinf) * np.exp(-elapsed / self._tau.flat[flat])

    def _fire(self, flat, t):
        N = self.n_neurons
        self._spikes.append((flat // N, flat % N, t))
        self.potential.flat[flat] = self._reset_value
        self._since.flat[flat] = t + self._refractory
        self._refractory_end.flat[flat] = t + self._refractory

    def _advance(self, flat, until):
        """Fire the crossings driven by ``bias_potential`` that happen before ``until``."""
        vinf = self._vinf
        while flat.size:
            theta = self._theta.flat[flat]
            v = self.potential.flat[flat]
            driven = vinf > theta
            ratio = np.where(driven, (vinf - v) / np.where(driven, vinf - theta, 1.0), np.inf)
            crossing = (self._since.flat[flat]
                        + self._tau.flat[flat] * np.log(np.maximum(ratio, 1.0)))
            hit = driven & (crossing < until)
            flat, until = flat[hit], until[hit]
            if flat.size:
                self._fire(flat, crossing[hit])

    def _event(self, flat, t, w):
        """One input event per neuron in ``flat``: at ``t`` the potential jumps by ``w``."""
        if self._driven:
            self._advance(flat, t)
        taken = t >= self._refractory_end.flat[flat]
        flat, t, w = flat[taken], t[taken], w[taken]
        v = self._value(flat, t) + w
        self.potential.flat[flat] = v
        self._since.flat[flat] = t
        fire = v >= self._theta.flat[flat]
        if fire.any():
            self._fire(flat[fire], t[fire])

    # ---------------------------------------------------------------- learning
    def _learn(self, in_member, in_index, in_time, sm, sk, st):
        """Pair STDP on this step's exact spike times; traces kept at step starts."""
        n_in = self.n_inputs
        t0 = self.step_index * self.dt
        qb = np.concatenate([in_member, sm])  # pre spikes: inputs and body neurons
        qj = np.concatenate([in_index, sk + n_in])
        qt = np.concatenate([in_time, st])
        W, mask = self._weights.matrix, self._weights.mask
        eta, ap, am = self._eta, self._a_plus, self._a_minus
        tp, tm = self._tau_plus, self._tau_minus
        if sm.size or qb.size:
            delta = np.zeros(W.shape)
        # potentiation at each post spike: pre trace (spikes at or before it)
        if sm.size:
            x = self.pre_trace[sm] * np.exp(-(st - t0) / tp[sm])[:, None]
            same = (qb[None, :] == sm[:, None]) & (qt[None, :] <= st[:, None])
            gain = np.where(same, ap[sm, None] * np.exp(-(st[:, None] - qt[None, :])
                                                        / tp[sm, None]), 0.0)
            rows = np.repeat(np.arange(sm.size), qb.size)
            np.add.at(x, (rows, np.tile(qj, sm.size)), gain.ravel())
            x *= eta[sm][:, None] * self._pre_sign[None, :]
            np.add.at(delta, (sm[:, None], np.arange(W.shape[1])[None, :], sk[:, None]), x)
        # depression at each pre spike: post trace (spikes strictly before it)
        if qb.size and np.any(am != 0):
            y = self.post_trace[qb] * np.exp(-(qt - t0) / tm[qb])[:, None]
            if sm.size:
                same = (sm[None, :] == qb[:, None]) & (st[None, :] < qt[:, None])
                gain = np.where(same, am[qb, None] * np.exp(-(qt[:, None] - st[None, :])
                                                            / tm[qb, None]), 0.0)
                rows = np.repeat(np.arange(qb.size), sm.size)
                np.add.at(y, (rows, np.tile(sk, qb.size)), gain.ravel())
            y *= (eta[qb] * self._pre_sign[qj])[:, None]
            np.add.at(delta, (qb, qj), y)
        if sm.size or qb.size:
            low, high = self._weights.clip_bounds
            touched = (delta != 0) & mask
            updated = np.clip(W.astype(np.float64) + delta, low, high)
            W[touched] = updated[touched]
        # traces to the start of the next step
        t1 = t0 + self.dt
        self.pre_trace *= np.exp(-self.dt / tp)[:, None]
        if qb.size:
            np.add.at(self.pre_trace, (qb, qj), ap[qb] * np.exp(-(t1 - qt) / tp[qb]))
        self.post_trace *= np.exp(-self.dt / tm)[:, None]
        if sm.size:
            np.add.at(self.post_trace, (sm, sk), am[sm] * np.exp(-(t1 - st) / tm[sm]))
