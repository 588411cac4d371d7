"""The network: parts stepped together on arrays with a leading batch axis.

Data flow of one network step (``B`` members, ``n_in`` inputs, ``N`` body
neurons, ``P = n_in + N`` presynaptic rows)::

    input spikes (B, n_in) ─┐
                            ├─ pre (B, P) ── sum weight rows of spiking pre ──> current (B, N)
    body spikes t-1 (B, N) ─┘                (signed by their polarity)
    current ──> neurons.step ──> body spikes t (B, N)
    pre, post ──> synapses.step (training only)       [reward_mode 'step': rewarder → synapses.reward]

A *tick* runs ``processing_steps`` steps for one observation and returns the
readout's action; with ``reward_mode='tick'`` the game then calls
:meth:`Network.reward`.
"""

from __future__ import annotations

import copy

import numpy as np

from spikey.core import budget
from spikey.core.params import ConfigError, Key, suggest, validate
from spikey.core.part import REGISTRY, Activity, BuildContext, RandomBlocks, resolve_part
from spikey.snn import kernels
from spikey.snn.engine import Engine, plain_kernels

#: slot -> (family, required)
SLOTS = {
    "inputs": ("inputs", True),
    "neurons": ("neurons", True),
    "weights": ("weights", True),
    "synapses": ("synapses", False),
    "readout": ("readout", True),
    "rewarder": ("rewarder", False),
    "stp": ("short_term", False),
}

NETWORK_KEYS = (
    Key("processing_steps", "int", "Network steps per tick (per game observation).", 500,
        range=(1, None)),
    Key("batch_size", "int", "Independent members B stepped together.", 1, range=(1, None)),
    Key("seed", "int", "Seed of member 0; member b uses seed + b.", 0, range=(0, None)),
    Key("member_seeds", "list", "Explicit seed of each member (overrides seed + b), e.g. to give "
        "every member the same seed when only their parameters differ.", None, nullable=True),
    Key("dt", "float", "Network step (ms).", 1.0, range=(1e-6, None)),
    Key("dtype", "str", "Floating point type of state arrays.", "float32",
        choices=("float32", "float64")),
    Key("reward_mode", "str", "When rewards reach the synapses: after each tick ('tick'), "
        "every network step from that step's output spikes ('step'), or never ('none').",
        "tick", choices=("tick", "step", "none")),
    Key("kernels", "str", "Hot loops in compiled numba kernels ('numba'), in numpy ('numpy', the "
        "reference), or numba when installed ('auto'); both give the same results.", "auto",
        choices=kernels.CHOICES),
    Key("threads", "int", "Threads that run a fused tick in parallel (numba): its batch "
        "members, or with fewer members than threads, blocks of >= 256 neurons of a "
        "feed-forward network without learning; results are identical for any number. 1: one "
        "thread.", 1, range=(1, None)),
)


def _section(config: dict, name: str):
    value = config.get(name)
    return {} if value is None else value


class Network:
    """A spiking network assembled from parts.

    Parameters
    ----------
    parts : dict
        Slot -> Part class or registered name, for the slots ``inputs``,
        ``neurons``, ``weights``, ``readout`` (required), ``synapses``,
        ``rewarder``, ``stp`` (short-term plasticity; optional) and ``modifiers``
        (a list).
    config : dict
        ``{"network": {...}, "<slot>": {...}, "modifiers": [{"part": name, ...}]}``.

    Examples
    --------
    >>> net = Network.from_config(config)       # doctest: +SKIP
    >>> action = net.tick(observation, info)    # doctest: +SKIP
    >>> net.reward(action=action, info=info)    # doctest: +SKIP
    """

    def __init__(self, parts: dict, config: dict | None = None):
        config = dict(config or {})
        if not isinstance(parts, dict):
            raise ConfigError(f"parts must be a dict of slot -> part, got {type(parts).__name__}")
        known = set(SLOTS) | {"modifiers"}
        for slot in parts:
            if slot not in known:
                raise ConfigError(f"parts: unknown slot {slot!r}{suggest(slot, known)} Known slots: {sorted(known)}")
        for section in config:
            if section not in known | {"network", "parts"}:
                raise ConfigError(
                    f"config: unknown section {section!r}{suggest(section, known | {'network'})} "
                    f"Known sections: {sorted(known | {'network', 'parts'})}"
                )
        self.config = validate(NETWORK_KEYS, _section(config, "network"), "network")
        for name, value in self.config.items():
            setattr(self, name, value)
        self.parts = {}
        for slot, (family, required) in SLOTS.items():
            part = parts.get(slot)
            if part is None:
                if required:
                    raise ConfigError(f"parts: missing required slot {slot!r} (a {family} part)")
                if config.get(slot):
                    raise ConfigError(f"config.{slot} is given but parts has no {slot!r} part")
                self.parts[slot] = None
                continue
            cls = resolve_part(family, part, slot)
            self.parts[slot] = cls(_section(config, slot), slot=slot)
        self.modifiers = self._make_modifiers(parts.get("modifiers"), config.get("modifiers"))
        if self.reward_mode != "none" and self.parts["rewarder"] is None:
            raise ConfigError(
                f"network.reward_mode = {self.reward_mode!r} needs a 'rewarder' part; "
                "add one or set reward_mode to 'none'"
            )
        self._build()

    # ---------------------------------------------------------------- building
    @staticmethod
    def _make_modifiers(classes, configs):
        configs = list(configs or [])
        classes = list(classes or [None] * len(configs))
        if len(classes) != len(configs):
            raise ConfigError(
                f"modifiers: parts lists {len(classes)} modifiers but config has {len(configs)}"
            )
        out = []
        for i, (cls, cfg) in enumerate(zip(classes, configs)):
            cfg = dict(cfg)
            name = cfg.pop("part", None)
            cls = resolve_part("modifiers", cls or name, f"modifiers[{i}]")
            out.append(cls(cfg, slot=f"modifiers[{i}]"))
        return out

    def _build(self):
        budget.check_network(self)  # refuse a network that cannot fit before allocating it
        dtype = np.dtype(self.dtype)
        B = self.batch_size
        seeds = tuple(self.seed + b for b in range(B))
        if self.member_seeds is not None:
            given = self.member_seeds
            if len(given) != B or not all(isinstance(s, int) and s >= 0 for s in given):
                raise ConfigError(f"network.member_seeds = {given!r}; expected {B} integers >= 0 "
                                  "(one per member)")
            seeds = tuple(given)
        inputs, neurons = self.parts["inputs"], self.parts["neurons"]
        # Members whose episode is running (a training loop pauses the others).
        self.activity = Activity(B)
        kernels.check_threads(self.threads, self.kernels)
        self.context = BuildContext(B, dtype, self.dt, seeds, inputs.n_inputs, neurons.n_neurons,
                                    self.parts["readout"].n_outputs,
                                    kernels=kernels.use_kernels(self.kernels),
                                    activity=self.activity)
        self._check_inhibitory_fractions()
        for part in self.parts.values():
            if part is not None:
                part.build(self.context)
        for modifier in self.modifiers:
            modifier.build(self.context)
            modifier.bind(self.parts)
        if self.parts["synapses"] is not None:
            self.parts["synapses"].bind_reward_mode(self.reward_mode)
            self.parts["synapses"].bind_parts(self.parts)
        rewarder = self.parts["rewarder"]
        if self.reward_mode == "step" and rewarder is not None and not rewarder.STEP_REWARD:
            raise ConfigError(
                f"network.reward_mode = 'step' but {rewarder.owner} gives rewards per tick only; "
                "use reward_mode 'tick' or a per-step rewarder such as MatchExpected"
            )
        n_in, n = self.context.n_inputs, self.context.n_neurons
        self.n_inputs, self.n_neurons, self.n_outputs = n_in, n, self.context.n_outputs
        self.training = True
        self.tick_count = 0
        self.step_count = 0
        self._pre = np.zeros((B, n_in + n), dtype=bool)
        self._zero = np.zeros(1, dtype=np.intp)
        self._current = np.zeros((B, n), dtype=dtype)
        self._current_inhibitory = np.zeros((B, n), dtype=dtype)
        self._modulation_input = self._electric_input = None
        types = self.parts["weights"].type_matrix
        if types is not None:
            if (types == 1).any() and not hasattr(self.parts["neurons"], "modulate"):
                raise ConfigError(
                    f"weights.synapse_types has modulatory synapses but {self.parts['neurons'].owner}"
                    " has no modulation level; use a neuron with modulate(), e.g. ModulatedLIF")
            self._modulation_input = np.zeros((B, n), dtype=dtype)
            self._electric_input = np.zeros((B, n), dtype=dtype)
        delays = self.parts["weights"].delay_matrix
        self._pending = self._pending_inhibitory = None
        if delays is not None:
            # ring buffers of input still on its way, one slot per step of delay
            slots = int(delays.max()) + 1
            self._pending = np.zeros((B, slots, n), dtype=dtype)
            self._pending_inhibitory = np.zeros((B, slots, n), dtype=dtype)
            self._delay_values = [int(e) for e in np.unique(delays)]
        self._polarity = np.zeros(n_in + n, dtype=dtype)
        self._polarity_key = None  # (inputs, neurons) revisions last gathered
        self._sparse = getattr(self.parts["weights"], "SPARSE", False)
        self.tick_spikes = np.zeros((B, self.processing_steps, n), dtype=bool)
        self.tick_input_spikes = np.zeros((B, self.processing_steps, n_in), dtype=bool)
        # compiled execution (spikey.snn.engine) when numba runs and the synapses are plain
        self._engine = (Engine(self) if plain_kernels(self.context, self.parts["weights"],
                                                      self.parts["neurons"]) else None)
        self._output_counts = np.zeros((B, self.n_outputs), dtype=np.int64)
        if self.parts["rewarder"] is not None:
            self.parts["rewarder"].bind_spikes(self.tick_spikes, self.processing_steps * self.dt)
        # Per-member switch for reward-driven learning (1 learns, 0 frozen): a
        # training loop freezes members whose episode ended while others run on.
        self.plastic = np.ones(B, dtype=np.float64)
        self.last_action = None
        self._monitors = []
        self._expected = None
        self.reset()

    def _check_inhibitory_fractions(self):
        # Topologies that wire E and I neurons apart must agree with the
        # neurons on which ones are inhibitory (both use spread_mask).
        weights, neurons = self.parts["weights"], self.parts["neurons"]
        mine = getattr(weights, "inhibitory_fraction", None)
        theirs = getattr(neurons, "inhibitory_fraction", None)
        if mine is not None and theirs is not None and mine != theirs:
            raise ConfigError(
                f"weights.inhibitory_fraction = {mine} but neurons.inhibitory_fraction = {theirs}; "
                "they mark the same neurons inhibitory and must be equal")

    def __getattr__(self, name):
        # Parts are reachable as attributes: net.neurons, net.weights, ...
        parts = self.__dict__.get("parts")
        if parts is not None and name in parts:
            return parts[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    @classmethod
    def from_config(cls, config: dict) -> "Network":
        """Build from a plain-data config whose ``"parts"`` names each part."""
        if "parts" not in config:
            raise ConfigError("config: missing 'parts' (slot -> registered part name)")
        parts = dict(config["parts"])
        if config.get("modifiers"):
            parts["modifiers"] = [m.get("part") for m in config["modifiers"]]
        rest = {k: v for k, v in config.items() if k != "parts"}
        return cls(parts, rest)

    def get_config(self) -> dict:
        """The complete config (every key, defaults filled): plain data.

        ``Network.from_config(net.get_config()).get_config() == net.get_config()``.
        """
        out = {
            "parts": {slot: type(p).__name__ for slot, p in self.parts.items() if p is not None},
            "network": dict(self.config),
        }
        for slot, part in self.parts.items():
            if part is not None:
                out[slot] = part.get_config()
        if self.modifiers:
            out["modifiers"] = [{"part": type(m).__name__, **m.get_config()} for m in self.modifiers]
        return copy.deepcopy(out)

    # ---------------------------------------------------------------- schema
    @staticmethod
    def schema(parts: dict | None = None) -> list:
        """Every key of the network and of each given part, as a list of dicts."""
        rows = [dict(section="network", part="Network", **k.describe()) for k in NETWORK_KEYS]
        for slot, part in (parts or {}).items():
            if slot == "modifiers":
                items = [(f"modifiers[{i}]", p) for i, p in enumerate(part or [])]
            else:
                items = [(slot, part)]
            for section, p in items:
                family = SLOTS.get(slot, ("modifiers",))[0]
                cls = resolve_part(family, p, section)
                rows += [dict(section=section, part=cls.__name__, **d) for d in cls.schema()]
        return rows

    def get_schema(self) -> list:
        """The schema of this network's parts."""
        parts = {slot: type(p) for slot, p in self.parts.items() if p is not None}
        if self.modifiers:
            parts["modifiers"] = [type(m) for m in self.modifiers]
        return self.schema(parts)

    def print_schema(self) -> str:
        """Print (and return) the schema as an aligned table: a header, one block per part,
        required keys marked ``*``."""
        text = format_schema(self.get_schema(), title=f"Keys of {self!r}")
        print(text)
        return text

    # ---------------------------------------------------------------- running
    def train(self) -> "Network":
        """Plasticity on (the default)."""
        self.training = True
        return self

    def eval(self) -> "Network":
        """Plasticity frozen: weights do not change."""
        self.training = False
        return self

    def reset(self) -> None:
        """Start a new episode: neuron, input and trace state back to rest; weights kept."""
        for part in self.parts.values():
            if part is not None:
                part.reset()
        self.tick_spikes[...] = False
        self.tick_input_spikes[...] = False
        self._output_counts[...] = 0
        if self._pending is not None:
            self._pending[...] = 0.0
            self._pending_inhibitory[...] = 0.0
        self._sync_polarity()

    def begin_episode(self) -> None:
        """A new episode of the game starts: parts with per-episode learning state
        (``begin_episode()``: a TD rewarder's pending transition, TD-LTP's traces) clear it.
        Unlike :meth:`reset`, neuron state and weights are untouched."""
        for part in self.parts.values():
            hook = getattr(part, "begin_episode", None)
            if hook is not None:
                hook()

    def _sync_polarity(self):
        """Gather each presynaptic neuron's signed spike size (parts may change it).

        Parts change it only through ``set()`` (which bumps their revision), so
        the gathering is skipped while neither part has been set since.
        """
        inputs, neurons = self.parts["inputs"], self.parts["neurons"]
        key = (getattr(inputs, "_revision", 0), getattr(neurons, "_revision", 0))
        if key == self._polarity_key:
            return
        self._polarity_key = key
        n_in = self.n_inputs
        self._polarity[:n_in] = self.parts["inputs"].polarity
        self._polarity[n_in:] = self.parts["neurons"].polarity
        if self.parts["synapses"] is not None:
            self.parts["synapses"].set_pre_sign(self._polarity)

    @property
    def active(self) -> np.ndarray:
        """``(B,)`` booleans: members whose episode is running (all by default).

        A training loop sets ``network.active[b] = False`` for a member whose
        episode ended while others play on: its random streams, rewarder
        baseline, homeostasis and learning (STDP, LTP, DA-STDP's tonic dopamine,
        consolidation) pause, so when it resumes it continues exactly as its
        solo network would. (Its neurons still step, and ``plastic``
        separately switches off its reward-driven learning.)
        """
        return self.activity.mask

    @property
    def spikes(self) -> np.ndarray:
        """Body spikes of the current step, ``(B, n_neurons)``."""
        return self.parts["neurons"].spikes

    @property
    def output_spikes(self) -> np.ndarray:
        """Output spikes of the current step, ``(B, n_outputs)``."""
        return self.parts["neurons"].spikes[:, self.n_neurons - self.n_outputs:]

    def tick(self, state, info=None):
        """Run ``processing_steps`` steps on one observation per member; return the action.

        Parameters
        ----------
        state : array-like
            Observations with a leading batch axis ``(B, ...)``.
        info : dict, optional
            The game's info; ``reward_mode='step'`` needs ``info['expected']``.
        """
        self.activity.refresh()
        for modifier in self.modifiers:
            modifier.apply(self.tick_count)
        self._sync_polarity()
        stepwise = self.training and self.reward_mode == "step" and self.parts["synapses"] is not None
        rewarder = self.parts["rewarder"]
        if stepwise:
            self._expected = rewarder.step_targets(info, self.batch_size)
            every_step = rewarder.EVERY_STEP
        self.parts["inputs"].present(state)
        first_output = self.n_neurons - self.n_outputs
        fused = None
        counted = False  # whether the tick counted the output spikes (engine blocks)
        if self._engine is not None and not self._monitors:
            fused = self._engine.plan(self, self.training, self.activity.all,
                                      self._expected if stepwise else None)
        if fused is not None:  # the whole tick in one compiled call
            counted = self._engine.run_tick(self, fused)
        for t in range(0 if fused is not None else self.processing_steps):
            post = self._step()
            self.tick_spikes[:, t] = post
            self.tick_input_spikes[:, t] = self._pre[:, :self.n_inputs]
            if stepwise:
                outputs = post[:, first_output:]
                if every_step or outputs.any():  # rewards usually come with output spikes
                    r = rewarder.step_reward(outputs, self.parts["readout"].groups,
                                             self._expected, t)
                    self.parts["synapses"].reward(r * self.plastic, self.parts["weights"])
            for monitor in self._monitors:
                monitor.observe(self.step_count)
        self.tick_count += 1
        if self.training:  # slow adaptation that reads the whole tick (homeostasis)
            for modifier in self.modifiers:
                observe = getattr(modifier, "observe", None)
                if observe is not None:
                    observe(self.tick_spikes, self.processing_steps * self.dt)
        counts = self._output_counts
        if not counted:
            count_spikes(self.tick_spikes[:, :, first_output:], counts)
        duration = self.processing_steps * self.dt
        self.last_action = self.parts["readout"](counts, duration)
        return self.last_action

    def _step(self) -> np.ndarray:
        n_in = self.n_inputs
        neurons, weights = self.parts["neurons"], self.parts["weights"]
        pre = self._pre
        pre[:, :n_in] = self.parts["inputs"].step()
        pre[:, n_in:] = neurons.spikes
        stp = self.parts["stp"]
        self._efficacy = None if stp is None else stp.step(pre)
        typed = self._modulation_input is not None
        if self._engine is not None:  # compiled path (spikey.snn.engine)
            index = self._engine.propagate(self, pre, self._efficacy)
            post = neurons.step(self._current)
        else:
            index = bb, jj = np.nonzero(pre)
            if typed:
                self._modulation_input[...] = 0.0
                self._electric_input[...] = 0.0
            if neurons.SPLIT_INPUT:
                # Conductance-style models need excitatory and inhibitory input apart.
                excitatory = self._polarity[jj] > 0
                self._sum_rows(bb[excitatory], jj[excitatory], self._current, self._pending)
                inhibitory = ~excitatory
                self._sum_rows(bb[inhibitory], jj[inhibitory], self._current_inhibitory,
                               self._pending_inhibitory)
                if typed:
                    neurons.modulate(self._modulation_input)
                post = neurons.step(self._current, self._current_inhibitory)
            else:
                self._sum_rows(bb, jj, self._current, self._pending)
                if typed:
                    neurons.modulate(self._modulation_input)
                post = neurons.step(self._current)
            if typed:  # electric synapses: the target fires at once, whatever its potential
                post = neurons.fire(self._electric_input != 0)
        synapses = self.parts["synapses"]
        if self.training and synapses is not None:
            synapses.step(pre, post, weights, index)
        self.step_count += 1
        return post

    def _sum_rows(self, bb, jj, out, pending=None) -> None:
        """Event-driven propagation: ``out[b] = sum of the signed rows j spiking in b``.

        Only the weight rows of spiking neurons are read. :func:`member_sums`
        (or the compiled ``kernels.propagate``) adds each member's rows one after
        another in spike order whatever the batch size, so a batch member
        reproduces its solo network bit for bit, on either path.
        """
        out[...] = 0.0
        if pending is not None:  # what delayed synapses scheduled for this step
            slot = self.step_count % pending.shape[1]
            out += pending[:, slot]
            pending[:, slot] = 0.0
        if not bb.size:
            return
        weights = self.parts["weights"]
        if self._sparse:  # each spike's CSR segment, added in order (np.add.at is sequential)
            member, synapse, counts = weights.segments(bb, jj)
            factor = self._polarity[jj]
            if self._efficacy is not None:
                factor = factor * self._efficacy[bb, jj]
            values = weights.matrix.reshape(self.batch_size, -1)[member, synapse]
            values *= np.repeat(factor, counts)
            np.add.at(out, (member, synapse // weights.matrix.shape[2]), values)
            return
        rows = weights.flat[bb * self._pre.shape[1] + jj]
        if self._efficacy is None:
            rows *= self._polarity[jj, None]
        else:  # short-term plasticity scales each spike's rows
            rows *= (self._polarity[jj] * self._efficacy[bb, jj])[:, None]
        if self.batch_size == 1:
            members, starts = self._zero, self._zero
        else:  # spikes come sorted by member: each member's run of rows starts where bb changes
            new_member = np.empty(bb.size, dtype=bool)
            new_member[0] = True
            np.not_equal(bb[1:], bb[:-1], out=new_member[1:])
            starts = np.flatnonzero(new_member)
            members = bb[starts]
        types = self.parts["weights"].type_matrix
        if types is not None:
            # modulatory and electric synapses carry their spikes elsewhere
            code = types[jj]
            for value, target in ((1, self._modulation_input), (2, self._electric_input)):
                target[members] += member_sums(rows * (code == value), starts)
            rows *= code == 0
        delays = self.parts["weights"].delay_matrix
        if delays is None:
            out[members] = member_sums(rows, starts)
            return
        # Delayed synapses: the rows' entries with extra delay e go to the ring
        # buffer slot of step t + e; this step takes what its slot collected.
        P, D = self._pre.shape[1], pending.shape[1]
        delay = delays.reshape(-1, delays.shape[2])[bb * P + jj]
        for e in self._delay_values:
            part = rows * (delay == e)
            if e == 0:
                out[members] = member_sums(part, starts)
            else:
                pending[members, (self.step_count + e) % D] += member_sums(part, starts)

    def reward(self, state=None, action=None, game_reward=None, info=None, terminated=None,
               truncated=None) -> np.ndarray:
        """Score the last tick and, when training in tick mode, apply it to the synapses.

        The rewarder's :meth:`~spikey.snn.reward.Rewarder.learning_signals` (one or
        more ``(B,)`` signals, e.g. a TD error per transition) go to the synapses in
        order; ``terminated`` / ``truncated`` are the game's ``(B,)`` episode ends.

        Returns
        -------
        numpy.ndarray
            The learning signal of each member, summed over the tick's signals, ``(B,)``.
        """
        if self.reward_mode != "tick":
            raise RuntimeError(
                f"network.reward is for reward_mode='tick'; this network has {self.reward_mode!r}"
            )
        if action is None:
            if self.last_action is None:
                raise RuntimeError("network.reward: no action to score; call tick first "
                                   "(or pass action=...)")
            action = self.last_action
        signals = self.parts["rewarder"].learning_signals(action, game_reward, info,
                                                          terminated, truncated)
        if self.training and self.parts["synapses"] is not None and (
                self._engine is None or not self._engine.reward(self, signals)):
            self.parts["synapses"].reward_signals(signals * self.plastic, self.parts["weights"])
        return signals[0] if len(signals) == 1 else signals.sum(axis=0)

    # ---------------------------------------------------------------- recording
    def add_monitor(self, path: str, every: int = 1) -> "Monitor":
        """Record ``path`` (e.g. ``'neurons.potential'``, ``'spikes'``) every ``every`` steps."""
        monitor = Monitor(self, path, every)
        self._monitors.append(monitor)
        return monitor

    def remove_monitor(self, monitor: "Monitor") -> None:
        """Stop recording with ``monitor``."""
        self._monitors.remove(monitor)

    # ---------------------------------------------------------------- state
    def random_blocks(self) -> dict:
        """Every per-member random stream, keyed ``'slot.attribute'``."""
        out = {}
        for slot, part in self.parts.items():
            if part is None:
                continue
            for name, value in vars(part).items():
                if isinstance(value, RandomBlocks):
                    out[f"{slot}.{name}"] = value
        return out

    def state_arrays(self, random: bool = True) -> dict:
        """Every array that save/load carries, keyed ``'slot.attribute'``.

        Parameters
        ----------
        random : bool
            Include the random streams' blocks of draws and positions (``False``: only the
            state the network computes, what the per-tick finite check reads).
        """
        out = {}
        for slot, part in self.parts.items():
            if part is not None:
                for name, array in part.state_arrays().items():
                    out[f"{slot}.{name}"] = array
        for modifier in self.modifiers:
            for name, array in modifier.state_arrays().items():
                out[f"{modifier.slot}.{name}"] = array
        if random:
            for name, blocks in self.random_blocks().items():
                out[f"{name}.buffer"] = blocks.buffer
                out[f"{name}.position"] = blocks.position
        if self._pending is not None:
            out["network.pending"] = self._pending
            out["network.pending_inhibitory"] = self._pending_inhibitory
        out["network.tick_spikes"] = self.tick_spikes
        out["network.tick_input_spikes"] = self.tick_input_spikes
        return out

    @property
    def seeds(self) -> tuple:
        """The seed of each member."""
        return self.context.seeds

    def all_parts(self) -> dict:
        """Every part by slot name, modifiers included (``'modifiers[i]'``)."""
        out = {slot: part for slot, part in self.parts.items() if part is not None}
        out.update({m.slot: m for m in self.modifiers})
        return out

    def copy(self) -> "Network":
        """An independent copy, learned weights and random state included."""
        return copy.deepcopy(self)

    def save(self, path) -> None:
        """Save config, arrays and random state to ``path`` atomically. See :mod:`spikey.snn.io`."""
        from spikey.snn.io import save_network

        save_network(self, path)

    @classmethod
    def load(cls, path) -> "Network":
        """Load a network saved with :meth:`save`, bit-exactly."""
        from spikey.snn.io import load_network

        return load_network(path)

    def __repr__(self):
        parts = ", ".join(f"{s}={type(p).__name__}" for s, p in self.parts.items() if p is not None)
        return f"Network(B={self.batch_size}, {parts})"


class Monitor:
    """Records one state array of a network at a fixed step interval.

    ``data`` stacks the records along axis 1: ``(B, n_records, ...)``.
    """

    def __init__(self, network: Network, path: str, every: int = 1):
        if every < 1:
            raise ValueError(f"Monitor every = {every}; expected an integer >= 1")
        self.network, self.path, self.every = network, path, int(every)
        self._get()  # fail now on a bad path
        self.records, self.steps = [], []

    def _get(self):
        # Resolved through self.network on every call, so a copied network's
        # monitor records the copy.
        network, path = self.network, self.path
        if path in ("spikes", "output_spikes"):
            return getattr(network, path)
        slot, _, name = path.partition(".")
        part = network.parts.get(slot)
        if part is None or not name or not hasattr(part, name):
            options = [f"{s}.{n}" for s, p in network.parts.items() if p is not None
                       for n in p.STATE]
            raise ValueError(f"Monitor path {path!r} names no state; try 'spikes' or one of {options}")
        return getattr(part, name)

    def observe(self, step: int) -> None:
        """Record the watched array if ``step`` is a multiple of ``every`` (the network calls it)."""
        if step % self.every == 0:
            self.records.append(np.array(self._get(), copy=True))
            self.steps.append(step)

    @property
    def data(self) -> np.ndarray:
        """The records stacked along a new first axis ``(S, B, ...)``."""
        if not self.records:
            return np.zeros((0,))
        return np.stack(self.records, axis=1)

    def clear(self) -> None:
        """Forget the records."""
        self.records.clear()
        self.steps.clear()


def count_spikes(spikes: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Each neuron's spikes over a tick: ``out[b, k] = spikes[b, :, k].sum()``.

    ``spikes`` is a boolean ``(B, T, K)`` array (a view is fine). Large ticks are summed as
    bytes, at most 255 steps at a time (a byte cannot overflow), ~14x faster than
    ``bool.sum(axis=1)`` on 1,000 steps x 10,000 neurons (3.7 -> 0.26 ms); small ones as
    before. The counts are the same integers either way.

    Parameters
    ----------
    spikes : numpy.ndarray
        ``(B, T, K)`` booleans.
    out : numpy.ndarray
        ``(B, K)`` integers, overwritten.

    Returns
    -------
    numpy.ndarray
        ``out``.
    """
    if spikes.size < 65536 or spikes.dtype != np.bool_:
        out[...] = spikes.sum(axis=1)
        return out
    steps = spikes.view(np.uint8)
    out[...] = 0
    for start in range(0, steps.shape[1], 255):
        out += np.add.reduce(steps[:, start:start + 255], axis=1, dtype=np.uint8)
    return out


def member_sums(rows: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sum each member's run of ``rows`` (runs begin at ``starts``), row after row.

    The rows of a run are added strictly in order, ``((r0 + r1) + r2) + ...``,
    whatever the batch size: this is the order the compiled kernel uses, so
    both paths, and a batch member and its solo network, agree bit for bit.
    (``np.add.reduceat`` does not promise an order; ``sum`` over the rows'
    axis adds row after row except for one-column arrays, where it sums
    pairwise, hence ``cumsum`` there.)
    """
    n, width = rows.shape
    if starts.size == 1:
        runs = rows[None]
    else:
        counts = np.diff(np.append(starts, n))
        runs = np.zeros((starts.size, int(counts.max()), width), dtype=rows.dtype)
        rank = np.arange(n) - np.repeat(starts, counts)
        runs[np.repeat(np.arange(starts.size), counts), rank] = rows
    if width == 1:
        return np.cumsum(runs, axis=1)[:, -1]
    return runs.sum(axis=1)


def format_schema(rows: list, title: str | None = None) -> str:
    """An aligned text table of schema rows: a header, one block per part, required keys
    marked ``*`` (what ``print_schema`` and ``spikey info`` print).

    Parameters
    ----------
    rows : list of dict
        Schema rows (``section``, ``part``, ``key``, ``type``, ``default``, ``range``,
        ``choices``, ``description``), as :meth:`Network.get_schema` gives them.
    title : str, optional
        A first line above the header.

    Returns
    -------
    str
    """
    lines = [] if title is None else [title]
    lines += [f"  {'key':<24} {'type':<14} default / allowed values",
              "  (* = required: no default, the config must set it)"]
    current = None
    for r in rows:
        if (r["section"], r["part"]) != current:
            current = (r["section"], r["part"])
            lines += ["", f"{r['section']} {r['part']}:"]
        required = r["default"] == "REQUIRED"
        allowed = "REQUIRED" if required else f"default={r['default']!r}"
        if r["range"] is not None:
            allowed += f", range={r['range']}"
        if r["choices"] is not None:
            allowed += f", choices={r['choices']}"
        lines.append(f"{'*' if required else ' '} {r['key']:<24} {r['type']:<14} {allowed}")
        lines.append(f"{'':<4}{r['description']}")
    return "\n".join(lines)


def all_parts() -> dict:
    """Registered parts by family: ``{family: {name: class}}``."""
    return {family: dict(classes) for family, classes in REGISTRY.items()}
