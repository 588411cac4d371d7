r"""A spiking actor–critic for any gymnasium environment with discrete actions.

The network (Frémaux, Sprekeler & Gerstner 2013, in tick form)::

    observation ──Population (Gaussian receptive fields per value)──> input spikes
                  (regular spike trains by default: input_spikes='regular'; 'regular-tick', 'poisson')
    input spikes ──plastic synapses──> critic  (n_critic LIF)   : value V = a·rate + b
                 ──plastic synapses──> actor   (n_per_action LIF per action)
    actor group rates ──SoftmaxAction──> action ~ softmax(beta · rates)

    after each tick: TDError  delta = r + gamma·V' - V  (and r - V at termination)
                     TDLTP    w += eta · delta · z ;  z <- lambda·z + e(tick)

Body layout: ``[critic | actor group 0 | actor group 1 | ...]``; only
input -> body synapses exist. Eligibility ``e`` is Hebbian (a presynaptic
trace meeting a postsynaptic spike). On actor synapses it is scaled per group
by :math:`1[g = a] - \pi(g)`, the gradient of :math:`\log\pi(a)` for a softmax
over group rates, so that :math:`\delta` credits the action taken against the
policy's expectation (``output_gate='policy'``). A NormalizeWeights modifier
keeps each actor neuron's summed input constant, so no action group falls silent.
With ``learning_rate_end`` and/or ``beta_end`` set, LinearDecay modifiers move
the learning rate and the inverse temperature linearly to those values over
``schedule_ticks`` ticks, counted per member over its own episodes (``clock:
member``), so a batch member follows its solo run's schedule exactly.

Routes (``route``):

``'td-ltp'``
    TD-LTP: eligibility from pre-before-post pairings only (:math:`A_- = 0`).
``'td-stdp'``
    The same with an STDP window (:math:`A_- =` ``stdp_depression``, -0.5 by
    default): reward-modulated STDP whose modulator is the critic's TD error
    instead of the raw reward.
``'eprop'``
    Reward-based e-prop (Bellec et al. 2020, Nat Commun 11:3625;
    :class:`~spikey.gradients.plasticity.TDEProp`): every synapse's eligibility is
    the postsynaptic surrogate derivative times the presynaptic trace, scaled per
    neuron by its learning signal (critic: 1; actor: ``actor_rate_factor`` times
    :math:`1[g = a] - \pi(g)`; an optional recurrent hidden layer of ``n_hidden``
    LIF neurons, body ``[hidden | critic | actor]``: the signals fed back through
    its weights onto critic and actor), in a TD(λ) trace gated by the same TD
    error. Options of :data:`EPROP_DEFAULTS` apply to this route only; those of
    :data:`TD_ONLY` to the two others only.
"""

from __future__ import annotations

import copy

from spikey.core.params import ConfigError
from spikey.games.adapters import EnvAdapter

ROUTES = ("td-ltp", "td-stdp", "eprop")

#: Defaults measured on CartPole-v1 (see spikey/agents/README.md).
DEFAULTS = {
    "processing_steps": 40,
    "n_per_dim": 10,
    "max_rate": 200.0,
    "input_spikes": "regular",
    "n_critic": 100,
    "n_per_action": 20,
    "gamma": 0.98,
    "value_scale": 0.3,
    "value_offset": -10.0,
    "reward_scale": 0.4,
    "learning_rate": 0.000675,
    "actor_rate_factor": 2.0,
    "actor_eligibility": "presynaptic",
    "trace_decay": 0.83,
    "beta": 0.05,
    "weight_high": 1.0,
    "max_weight": 4.0,
    "actor_weight_sum": 20.0,
    "stdp_depression": -0.5,
    "learning_rate_end": 0.000045,
    "beta_end": 0.15,
    "schedule_ticks": 150_000,
}

#: Options of the TD-LTP / TD-STDP eligibility, refused with ``route='eprop'``.
TD_ONLY = ("actor_eligibility", "stdp_depression")

#: Options of ``route='eprop'`` only (refused with the other routes), and its defaults.
EPROP_DEFAULTS = {
    "n_hidden": 0,
    "hidden_weight_high": 0.1,
    "recurrent_weight_high": 0.1,
    "surrogate": "fast_sigmoid",
    "surrogate_scale": 4.0,
    "feedback": "symmetric",
    "hidden_rate_factor": 1.0,
}


def actor_critic_config(env=None, *, observation_space=None, action_space=None,
                        route: str = "td-ltp", batch_size: int = 1, seed: int | None = None, low=None,
                        high=None, sections: dict | None = None, **options) -> dict:
    """A network config (plain data) of the spiking actor–critic for one environment.

    Parameters
    ----------
    env : gymnasium.Env or VectorEnv, optional
        Its observation space (a ``Box``) and action space (``Discrete``); or give
        ``observation_space`` and ``action_space``.
    route : {'td-ltp', 'td-stdp', 'eprop'}
        The learning rule (see the module docstring).
    batch_size : int
        Members ``B``.
    seed : int, optional
        The seed of member 0 (member b: seed + b). Leave it out when the config
        goes to :func:`spikey.training.train`, whose ``training.seed`` is the run seed.
    low, high : list of float, optional
        Bounds of the observation values for the receptive fields (default: the
        space's, infinite ones replaced as :class:`~spikey.games.adapters.EnvAdapter`
        does); observations beyond them read as the nearest bound.
    sections : dict, optional
        Section updates applied last, key by key (``{"neurons": {"tau": 10.0}}``).
    **options
        Any of :data:`DEFAULTS` (except :data:`TD_ONLY` with ``route='eprop'``), and of
        :data:`EPROP_DEFAULTS` with ``route='eprop'``.

    Returns
    -------
    dict
        A network config for :meth:`spikey.Network.from_config`.

    Examples
    --------
    >>> import gymnasium
    >>> config = actor_critic_config(gymnasium.make("CartPole-v1"), batch_size=4)
    >>> config["parts"]["synapses"], config["parts"]["readout"], config["neurons"]["n_neurons"]
    ('TDLTP', 'SoftmaxAction', 140)
    """
    if route not in ROUTES:
        raise ConfigError(f"actor_critic_config: route = {route!r}; expected one of {list(ROUTES)}")
    unknown = sorted(set(options) - set(DEFAULTS) - set(EPROP_DEFAULTS))
    if unknown:
        raise ConfigError(f"actor_critic_config: unknown options {unknown}; expected some of "
                          f"{sorted(set(DEFAULTS) | set(EPROP_DEFAULTS))}")
    eprop = route == "eprop"
    foreign = sorted(set(options) & (set(TD_ONLY) if eprop else set(EPROP_DEFAULTS)))
    if foreign:
        owner = "routes 'td-ltp' and 'td-stdp'" if eprop else "route 'eprop'"
        raise ConfigError(f"actor_critic_config: options {foreign} do not apply to route "
                          f"{route!r}; they are for {owner}")
    o = {**DEFAULTS, **(EPROP_DEFAULTS if eprop else {}), **options}
    adapter = EnvAdapter(env, observation_space=observation_space, action_space=action_space,
                         n_per_dim=o["n_per_dim"], n_per_action=o["n_per_action"],
                         max_rate=o["max_rate"])
    if adapter.inputs["part"] != "Population" or adapter.readout["part"] != "TopAction":
        raise ConfigError("actor_critic_config: needs a Box observation space and a Discrete "
                          f"action space; got {adapter.observation_space} and "
                          f"{adapter.action_space}")
    inputs = copy.deepcopy(adapter.inputs["config"])
    if o["input_spikes"] not in ("regular-tick", "regular", "poisson"):
        raise ConfigError(f"actor_critic_config: input_spikes = {o['input_spikes']!r}; expected "
                          "'regular-tick', 'regular' or 'poisson'")
    inputs["spike_model"] = o["input_spikes"]
    for name, value in (("low", low), ("high", high)):
        if value is not None:
            inputs[name] = [float(v) for v in value]
    n_actions = adapter.readout["config"]["n_actions"]
    n_actor = n_actions * o["n_per_action"]
    n_critic = o["n_critic"]
    config = {
        "parts": {"inputs": "Population", "neurons": "LIF", "weights": "Random",
                  "synapses": "TDLTP", "readout": "SoftmaxAction", "rewarder": "TDError",
                  "modifiers": ["NormalizeWeights"]},
        "network": {"processing_steps": o["processing_steps"], "batch_size": batch_size,
                    "dt": 1.0, "reward_mode": "tick"},
        "inputs": inputs,
        "neurons": {"n_neurons": n_critic + n_actor, "tau": 20.0, "threshold": 8.0,
                    "refractory": 2.0},
        "weights": {"max_weight": o["max_weight"], "low": 0.0, "high": o["weight_high"],
                    "inputs_only": True},
        "synapses": {"learning_rate": o["learning_rate"], "trace_decay": o["trace_decay"],
                     "A_minus": 0.0 if route == "td-ltp" else o["stdp_depression"],
                     "output_gate": "policy", "output_rate_factor": o["actor_rate_factor"],
                     "output_eligibility": o["actor_eligibility"]},
        "readout": {"n_outputs": n_actor, "n_actions": n_actions, "beta": o["beta"]},
        "rewarder": {"n_critic": n_critic, "gamma": o["gamma"], "value_scale": o["value_scale"],
                     "value_offset": o["value_offset"], "reward_scale": o["reward_scale"]},
        # rows: only the inputs project (inputs_only); the body rows hold zeros, which add
        # nothing to a sum, so leaving them out changes no weight and saves 3/4 of the work
        "modifiers": [{"part": "NormalizeWeights", "target": o["actor_weight_sum"],
                       "neurons": [n_critic, n_critic + n_actor],
                       "rows": [0, inputs["n_dims"] * inputs["n_per_dim"]]}],
    }
    if eprop:
        _eprop_sections(config, o, adapter.inputs["config"]["n_dims"] * o["n_per_dim"])
    if seed is not None:
        config["network"]["seed"] = seed
    # schedules: learning rate down and exploration down (beta up) over schedule_ticks ticks
    for path, start, end in (("synapses.learning_rate", o["learning_rate"], o["learning_rate_end"]),
                             ("readout.beta", o["beta"], o["beta_end"])):
        if end is not None:
            config["parts"]["modifiers"].append("LinearDecay")
            config["modifiers"].append({"part": "LinearDecay", "path": path, "start": start,
                                        "end": float(end), "ticks": o["schedule_ticks"],
                                        "clock": "member"})
    for section, value in (sections or {}).items():
        if isinstance(value, dict) and isinstance(config.get(section), dict):
            config[section] = {**config[section], **copy.deepcopy(value)}
        else:
            config[section] = copy.deepcopy(value)
    return config


def _eprop_sections(config: dict, o: dict, n_in: int) -> None:
    """Turn the TD-LTP config into the e-prop route's (in place): the TDEProp rule, and the
    hidden layer's neurons, weights and normalisation when ``n_hidden`` > 0."""
    H = o["n_hidden"]
    if not isinstance(H, int) or isinstance(H, bool) or H < 0:
        raise ConfigError(f"actor_critic_config: n_hidden = {H!r}; expected an int >= 0")
    for name in ("hidden_weight_high", "recurrent_weight_high"):
        value = o[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ConfigError(f"actor_critic_config: {name} = {value!r}; expected a number >= 0")
    n_readout = config["neurons"]["n_neurons"]  # critic + actor
    n = H + n_readout
    config["parts"]["synapses"] = "TDEProp"
    config["synapses"] = {"learning_rate": o["learning_rate"], "trace_decay": o["trace_decay"],
                          "output_rate_factor": o["actor_rate_factor"],
                          "surrogate": o["surrogate"], "surrogate_scale": o["surrogate_scale"],
                          "n_hidden": H, "feedback": o["feedback"],
                          "hidden_rate_factor": o["hidden_rate_factor"]}
    if not H:
        return
    config["neurons"]["n_neurons"] = n
    high = o["weight_high"]
    config["parts"]["weights"] = "Manual"
    blocks = [{"pre": [0, n_in], "post": [0, n], "weight": {"uniform": [0.0, high]}},
              {"pre": [n_in, n_in + H], "post": [H, n],
               "weight": {"uniform": [0.0, o["hidden_weight_high"]]}}]
    if o["recurrent_weight_high"] > 0:
        blocks.insert(1, {"pre": [n_in, n_in + H], "post": [0, H],
                          "weight": {"uniform": [0.0, o["recurrent_weight_high"]]}})
    config["weights"] = {"max_weight": o["max_weight"], "matrix": blocks}
    n_actor = config["readout"]["n_outputs"]
    for modifier in config["modifiers"]:
        if modifier["part"] == "NormalizeWeights":  # the actor's input rows, as without hidden
            modifier["neurons"] = [n - n_actor, n]
            modifier["rows"] = [0, n_in]
