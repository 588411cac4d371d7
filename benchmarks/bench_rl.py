"""Reinforcement learning: the spiking actor-critic against its baselines, same tasks, same budget.

Methods, each trained on the same tasks for the same number of training
episodes per seed, then evaluated frozen:

``td-ltp``, ``td-stdp``, ``eprop``
    The spiking actor-critic's routes (``spikey.agents``) trained by
    ``spikey.training.train``: the task's shipped config in ``examples/configs``
    where there is one (:data:`SHIPPED`), else ``actor_critic_config``'s
    defaults; the seeds are the members of one batch (member b has seed
    ``seed + b``, training.seed is the run seed).
``ga``
    The genetic algorithm as ``meta/cartpole.py`` runs it: static input -> output
    weights of a small spiking controller (``meta/cartpole_evolve.yaml``; for
    other tasks the same design with one output neuron per action), one batched
    network per generation, fitness = mean return of ``--ga-fitness-episodes``
    games. Budget equivalence: every game a genotype plays counts as one
    training episode; generations run while the next one fits in the budget
    (cached elites play nothing). Its training curve is each evaluated
    genotype's fitness repeated over its games, in evaluation order.
``numpy-ac``
    ``baselines/numpy_actor_critic.py``: a linear actor-critic with TD(lambda) on
    the same Gaussian receptive fields the spiking agent's input codes.
``random``
    A uniform random policy, evaluation only.

Per method, task and seed: episodes to threshold (the first training episode
at which the trailing ``--window``-episode mean return reaches 195 on
CartPole-v1, -200 on Acrobot-v1, -110 on MountainCar-v0; None if never), the final evaluation mean over
``--eval-episodes`` games, and wall time. All methods are evaluated on the same
games: seed s plays ``episode_seed(s, e, EVAL_STREAM)``, the evaluation
stream of ``spikey.training``, never used in training (the GA's fitness games
come from seed ``GA_SEED_OFFSET + s``).

``--batch-cost`` instead measures the issue-15 target "16 members learning at
once cost <= 4x the wall time of one": ``--batch-episodes`` training episodes
of the td-ltp agent on ``spikey/CartPole-v0`` (natively batched) at B = 1 and
B = 16, median of ``--repeats``; ``--threads 1 2`` also times B = 16 with its
members in two threads (``network.threads``).

Each task trains for its shipped config's budget (:data:`TASKS`: 1,000 episodes on
CartPole-v1, 500 on Acrobot-v1 and MountainCar-v0) unless ``--episodes`` is given.

Run ``python benchmarks/bench_rl.py [--quick] [--tasks ...] [--methods ...] [--seeds 5]``
or ``python benchmarks/bench_rl.py --batch-cost``.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time

import gymnasium as gym
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _common import write_json  # noqa: E402
from baselines.numpy_actor_critic import EVAL_STREAM as NP_EVAL_STREAM  # noqa: E402
from baselines.numpy_actor_critic import LinearActorCritic, game_seed  # noqa: E402

import spikey.games  # noqa: E402,F401  (registers spikey/ games)
from spikey.agents import actor_critic_config  # noqa: E402
from spikey.training import load_config, train  # noqa: E402
from spikey.training.loop import EVAL_STREAM, episode_seed, make_games, play_episode  # noqa: E402

METHODS = ("td-ltp", "td-stdp", "eprop", "ga", "numpy-ac", "random")
SPIKING = ("td-ltp", "td-stdp", "eprop")
CARTPOLE_LOW = [-2.4, -3.0, -0.21, -3.5]
#: threshold of the trailing mean return; receptive-field bounds (None: the space's); the
#: numpy baseline's discount (0.95 never reaches the goal on Acrobot-v1 in 1,000 episodes,
#: 0.99 does: trailing mean -200 after ~600 episodes on seed 0; see README)
#: training episodes per seed (the shipped config's budget; --episodes overrides it for all)
TASKS = {
    "CartPole-v1": {"threshold": 195.0, "low": CARTPOLE_LOW, "high": [-v for v in CARTPOLE_LOW],
                    "numpy_gamma": 0.95, "episodes": 1000},
    "Acrobot-v1": {"threshold": -200.0, "low": None, "high": None, "numpy_gamma": 0.99,
                   "episodes": 500},
    "MountainCar-v0": {"threshold": -110.0, "low": None, "high": None, "numpy_gamma": 0.99,
                       "episodes": 500},
}
#: the shipped config of a spiking route on a task (examples/configs/); a pair without one
#: runs ``actor_critic_config``'s defaults for that route
CONFIGS = os.path.join(HERE, "..", "examples", "configs")
SHIPPED = {("td-ltp", "CartPole-v1"): "cartpole.yaml",
           ("td-stdp", "CartPole-v1"): "cartpole_td_stdp.yaml",
           ("eprop", "CartPole-v1"): "cartpole_eprop.yaml",
           ("td-ltp", "Acrobot-v1"): "acrobot.yaml",
           ("td-ltp", "MountainCar-v0"): "mountaincar.yaml"}
GA_SEED_OFFSET = 500_000  # the GA's fitness games: seeds apart from every evaluation seed
GA_YAML = os.path.join(HERE, "..", "meta", "cartpole_evolve.yaml")
BATCH_GAME = "spikey/CartPole-v0"
# the baseline plays the games spikey.training gives the same seed
assert EVAL_STREAM == NP_EVAL_STREAM
assert episode_seed(3, 7, EVAL_STREAM) == game_seed(3, 7, EVAL_STREAM)


def bounds(task: str):
    """Receptive-field bounds of a task: the fixed ones of :data:`TASKS`, else the space's."""
    low, high = TASKS[task]["low"], TASKS[task]["high"]
    if low is None:
        space = gym.make(task).observation_space
        low, high = space.low.astype(float).tolist(), space.high.astype(float).tolist()
    return low, high


def episodes_to_threshold(returns, threshold: float, window: int):
    """First episode (1-based count) at which the trailing ``window`` mean reaches ``threshold``."""
    returns = np.asarray(returns, float)
    if window < 1 or returns.size < window:
        return None
    sums = np.convolve(returns, np.ones(window), "valid")
    hits = np.flatnonzero(sums / window >= threshold)
    return int(hits[0]) + window if hits.size else None


def eval_seeds(seed: int, n: int) -> list:
    """Evaluation game seeds of ``seed``: those ``spikey.training`` gives member seed ``seed``."""
    return [episode_seed(seed, e, EVAL_STREAM) for e in range(n)]


def _row(method, task, seed, train_returns, eval_returns, wall_s, together, args, **extra):
    window = min(args.window, args.episodes) if args.episodes else args.window
    threshold = TASKS[task]["threshold"]
    train_returns = np.asarray(train_returns, float)
    return {
        "method": method, "task": task, "seed": seed, "episodes": int(train_returns.size),
        "threshold": threshold, "window": window,
        "episodes_to_threshold": episodes_to_threshold(train_returns, threshold, window),
        "final_train_mean": float(train_returns[-window:].mean()) if train_returns.size else None,
        "eval_mean": float(np.mean(eval_returns)), "eval_episodes": int(len(eval_returns)),
        "wall_s": float(wall_s), "seeds_together": together,
        "train_returns": [float(r) for r in train_returns], **extra,
    }


# ----------------------------------------------------------------------------- methods


def spiking_config(route: str, task: str, args) -> dict:
    """The experiment config of a spiking route on a task: its shipped config if there is one
    (:data:`SHIPPED`), else ``actor_critic_config(route=...)``; ``args.seeds`` members from
    ``args.seed``, the benchmark's episodes, evaluation games and tick cap."""
    name = SHIPPED.get((route, task))
    if name is not None:
        config = load_config(os.path.join(CONFIGS, name))
        network = config["network"]
        game = config["game"]
        if game["id"] != task:
            raise ValueError(f"{name}: game id {game['id']!r}; expected {task!r}")
    else:
        low, high = bounds(task)
        network = actor_critic_config(gym.make(task), route=route, batch_size=args.seeds,
                                      low=low, high=high)
        game = {"id": task, "kwargs": {}}
    network = copy.deepcopy(network)
    network["network"]["batch_size"] = args.seeds
    network["network"].pop("seed", None)
    return {"network": network, "game": game,
            "training": {"episodes": args.episodes, "max_ticks": args.max_ticks,
                         "eval_episodes": args.eval_episodes, "seed": args.seed,
                         "record_ticks": False}}


def run_spiking(route: str, task: str, args) -> list:
    """Train ``args.seeds`` members of the spiking actor-critic at once; one row per seed."""
    config = spiking_config(route, task, args)
    start = time.perf_counter()
    result = train(config, progress=False)
    wall = time.perf_counter() - start
    rows, episodes = [], result.episodes
    for member in range(args.seeds):
        mine = episodes[episodes["member"] == member]
        train_rows = mine[mine["phase"] == "train"].sort_values("episode")
        eval_rows = mine[mine["phase"] == "eval"]
        rows.append(_row(route, task, args.seed + member, train_rows["return"].to_numpy(),
                         eval_rows["return"].to_numpy(), wall, args.seeds, args))
    return rows


def ga_config(task: str, fitness_episodes: int, seed: int) -> tuple:
    """The GA's experiment config and ``evolve`` spec for a task (``meta/cartpole_evolve.yaml``).

    CartPole-v1 uses the file as it is; another task gets the same design: two
    receptive fields per observation value at its bounds, one LIF output per
    action, every input -> output weight a gene.
    """
    config = load_config(GA_YAML)
    spec = config.pop("evolve")
    if task != "CartPole-v1":
        env = gym.make(task)
        n_dims, n_actions = env.observation_space.shape[0], int(env.action_space.n)
        low, high = bounds(task)
        net = config["network"]
        net["inputs"].update(n_dims=n_dims, low=low, high=high)
        net["neurons"]["n_neurons"] = n_actions
        net["readout"].update(n_outputs=n_actions, n_actions=n_actions)
        net["weights"]["matrix"] = [{"pre": [0, 2 * n_dims], "post": [0, n_actions],
                                     "weight": [[5.0] * n_actions for _ in range(2 * n_dims)]}]
        gene = next(iter(spec["genes"].values()))
        spec["genes"] = {f"network.weights.matrix.0.weight.{i}.{j}": dict(gene)
                         for i in range(2 * n_dims) for j in range(n_actions)}
    config["game"] = {"id": task, "kwargs": {}}
    config["training"].update(episodes=0, eval_episodes=fitness_episodes,
                              max_ticks=500, seed=GA_SEED_OFFSET + seed)
    config["network"]["network"]["seed"] = GA_SEED_OFFSET + seed  # the run seed rule
    return config, spec


def run_ga(task: str, seed: int, args) -> dict:
    """Evolve with a budget of ``args.episodes`` games, then evaluate the best controller."""
    from spikey.meta.batched import BatchedEvolveNetwork
    from spikey.meta.population import Population
    from spikey.snn.network import Network

    k = args.ga_fitness_episodes
    config, spec = ga_config(task, k, seed)
    config["training"]["max_ticks"] = args.max_ticks
    fitness = BatchedEvolveNetwork(config, spec["metric"])
    values = []

    def evaluate(genotypes):
        out = fitness(genotypes)
        values.extend(out)
        return out

    population = Population(spec["genes"], evaluate,
                            {**spec["ga"], "population_size": args.ga_population, "seed": seed})
    start = time.perf_counter()
    used, best, generations = 0, None, 0
    while True:
        keys = {population.space.key(i.genotype) for i in population.individuals}
        new = keys - set(population.cache)  # cached genotypes (elites) play no games
        if used + len(new) * k > args.episodes:
            break
        population.evaluate_generation()
        used += len(new) * k
        generations += 1
        best = population.best()
        population.breed()
    if best is None:
        raise ValueError(f"ga: a budget of {args.episodes} episodes does not cover one generation "
                         f"of {args.ga_population} x {k} games; lower --ga-population or "
                         "--ga-fitness-episodes")
    net_config = copy.deepcopy(fitness.config_for(best.genotype)["network"])
    net_config["network"].update(batch_size=args.eval_episodes, member_seeds=None)
    network = Network.from_config(net_config).eval()
    games = make_games({"id": task, "kwargs": {}}, args.eval_episodes)
    returns, _ = play_episode(network, games, eval_seeds(seed, args.eval_episodes),
                              args.max_ticks, "eval", 0, False, [])
    games.close()
    wall = time.perf_counter() - start
    return _row("ga", task, seed, np.repeat(values, k), returns, wall, 1, args,
                generations=generations, best_fitness=float(best.fitness))


def run_numpy(task: str, seed: int, args) -> dict:
    """Train and evaluate the numpy linear actor-critic on spikey's game seeds for ``seed``."""
    low, high = bounds(task)
    env = gym.make(task)
    gamma = args.numpy_gamma if args.numpy_gamma is not None else TASKS[task]["numpy_gamma"]
    agent = LinearActorCritic(low, high, int(env.action_space.n), gamma=gamma, seed=seed)
    start = time.perf_counter()
    train_returns = [agent.play(env, episode_seed(seed, e), True, args.max_ticks)[0]
                     for e in range(args.episodes)]
    eval_returns = [agent.play(env, s, False, args.max_ticks)[0]
                    for s in eval_seeds(seed, args.eval_episodes)]
    env.close()
    return _row("numpy-ac", task, seed, train_returns, eval_returns,
                time.perf_counter() - start, 1, args, gamma=gamma)


def run_random(task: str, seed: int, args) -> dict:
    """Evaluation games of ``seed`` played by a uniform random policy (its own generator)."""
    env = gym.make(task)
    rng = np.random.default_rng(seed)
    n = int(env.action_space.n)
    start = time.perf_counter()
    returns = []
    for game in eval_seeds(seed, args.eval_episodes):
        env.reset(seed=game)
        total = 0.0
        for _ in range(args.max_ticks):
            _, reward, terminated, truncated, _ = env.step(int(rng.integers(n)))
            total += float(reward)
            if terminated or truncated:
                break
        returns.append(total)
    env.close()
    row = _row("random", task, seed, [], returns, time.perf_counter() - start, 1, args)
    row["episodes"] = 0
    return row


# ----------------------------------------------------------------------------- batch cost


ALL_ACTIVE_TICKS = 8  # shorter than any spikey/CartPole-v0 episode: no member ever pauses
ALL_ACTIVE_EPISODES = 5  # times --batch-episodes: 8-tick episodes need more of them to time


def batch_cost(args) -> list:
    """Training cost of the td-ltp agent on ``spikey/CartPole-v0`` at B = 1 and B = 16.

    Two regimes, median of ``args.repeats``: ``args.batch_episodes`` ``full``
    episodes (capped at ``args.max_ticks``; a member whose game ended waits,
    paused, until the batch's longest episode ends, so B = 16 plays more network
    ticks than B = 1) and :data:`ALL_ACTIVE_EPISODES` times as many ``all_active``
    episodes cut at :data:`ALL_ACTIVE_TICKS` ticks, where every member is active
    every tick.
    B = 16 runs once per entry of ``args.threads`` (``network.threads``: members
    in parallel threads, identical results); B = 1 runs on one thread.
    Time is the sum of the episodes' own wall times (no network build).
    """
    probe = gym.make_vec(BATCH_GAME, num_envs=1)
    spaces = probe.single_observation_space, probe.single_action_space
    probe.close()
    low, high = TASKS["CartPole-v1"]["low"], TASKS["CartPole-v1"]["high"]
    runs_of = [(1, 1)] + [(16, t) for t in args.threads]  # (batch size, threads)
    regimes = {"full": args.max_ticks, "all_active": ALL_ACTIVE_TICKS}
    episodes_of = {"full": args.batch_episodes,
                   "all_active": ALL_ACTIVE_EPISODES * args.batch_episodes}

    def config(b, threads, episodes, cap):
        network = actor_critic_config(observation_space=spaces[0], action_space=spaces[1],
                                      route="td-ltp", batch_size=b, seed=args.seed,
                                      low=low, high=high)
        network["network"]["threads"] = threads
        return {"network": network, "game": {"id": BATCH_GAME, "kwargs": {}},
                "training": {"episodes": episodes, "max_ticks": cap,
                             "eval_episodes": 0, "seed": args.seed, "record_ticks": False}}

    for b, threads in runs_of:  # warm-up: compiled kernels, caches
        train(config(b, threads, 1, args.max_ticks), progress=False)
    runs = {(regime, run): [] for regime in regimes for run in runs_of}
    for _ in range(args.repeats):
        for regime, cap in regimes.items():
            for run in runs_of:  # interleaved, so all see about the same machine load
                rows = train(config(*run, episodes_of[regime], cap), progress=False).episodes
                per_episode = rows.groupby("episode").agg(wall=("wall_time", "first"),
                                                          ticks=("length", "max"),
                                                          member_ticks=("length", "sum"))
                runs[regime, run].append({"wall": float(per_episode["wall"].sum()),
                                          "ticks": int(per_episode["ticks"].sum()),
                                          "member_ticks": int(per_episode["member_ticks"].sum())})
    out = []
    for regime, cap in regimes.items():
        picked = {}
        for run in runs_of:
            done = sorted(runs[regime, run], key=lambda r: r["wall"])
            pick = picked[run] = done[len(done) // 2]  # the median run
            out.append({"kind": "batch_cost", "regime": regime, "game": BATCH_GAME,
                        "batch_size": run[0], "threads": run[1], "episodes": episodes_of[regime],
                        "max_ticks": cap, "repeats": args.repeats, "wall_s": pick["wall"],
                        "network_ticks": pick["ticks"], "member_ticks": pick["member_ticks"],
                        "ms_per_network_tick": 1000.0 * pick["wall"] / max(pick["ticks"], 1),
                        "member_ticks_per_s": pick["member_ticks"] / pick["wall"]})
        one = picked[runs_of[0]]
        for run in runs_of[1:]:
            many = picked[run]
            per_tick = ((many["wall"] / max(many["ticks"], 1))
                        / (one["wall"] / max(one["ticks"], 1)))
            out.append({"kind": "batch_cost_ratio", "regime": regime, "game": BATCH_GAME,
                        "batch_size": run[0], "threads": run[1],
                        "episodes": episodes_of[regime], "max_ticks": cap,
                        "repeats": args.repeats, "wall_ratio": many["wall"] / one["wall"],
                        "per_tick_ratio": per_tick, "target": 4.0, "met": per_tick <= 4.0})
    return out


# ----------------------------------------------------------------------------- output


def _fmt(value, digits=1):
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_table(rows: list) -> None:
    """Per-seed rows, then per method and task: mean eval, solved seeds, median episodes."""
    learning = [r for r in rows if "method" in r]
    if learning:
        print(f"\n{'method':<9} {'task':<12} {'seed':>4} {'episodes':>8} {'to thr.':>7} "
              f"{'last-win':>8} {'eval':>7} {'wall s':>8}")
        for r in learning:
            print(f"{r['method']:<9} {r['task']:<12} {r['seed']:>4} {r['episodes']:>8} "
                  f"{_fmt(r['episodes_to_threshold']):>7} {_fmt(r['final_train_mean']):>8} "
                  f"{_fmt(r['eval_mean']):>7} {_fmt(r['wall_s']):>8}")
        print(f"\n{'method':<9} {'task':<12} {'seeds':>5} {'reached':>7} {'median to thr.':>14} "
              f"{'eval mean':>9} {'eval sd':>7}")
        groups = {}
        for r in learning:
            groups.setdefault((r["method"], r["task"]), []).append(r)
        for (method, task), group in groups.items():
            reached = [r["episodes_to_threshold"] for r in group
                       if r["episodes_to_threshold"] is not None]
            evals = np.array([r["eval_mean"] for r in group])
            median = float(np.median(reached)) if reached else None
            print(f"{method:<9} {task:<12} {len(group):>5} {len(reached):>7} "
                  f"{_fmt(median, 0):>14} {evals.mean():>9.1f} {evals.std():>7.1f}")
    for r in rows:
        if r.get("kind") == "batch_cost":
            print(f"{r['regime']:<10} B = {r['batch_size']:>2}, {r['threads']} thread(s): "
                  f"{r['episodes']} episodes in "
                  f"{r['wall_s']:.2f} s, "
                  f"{r['network_ticks']} network ticks ({r['ms_per_network_tick']:.2f} ms each), "
                  f"{r['member_ticks_per_s']:.0f} member ticks/s")
        elif r.get("kind") == "batch_cost_ratio":
            print(f"{r['regime']:<10} B = 16 ({r['threads']} thread(s)) vs B = 1: "
                  f"wall x{r['wall_ratio']:.2f}, "
                  f"per network tick "
                  f"x{r['per_tick_ratio']:.2f} (target <= {r['target']:.0f}x: "
                  f"{'met' if r['met'] else 'not met'})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 seeds, 6 episodes, 4 evaluation games")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--episodes", type=int, default=None, help="training episodes for every task (default: each task's budget in TASKS)")
    parser.add_argument("--eval-episodes", type=int, default=None, help="evaluation games (100)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per method and task (5)")
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--max-ticks", type=int, default=None, help="cap per episode (500)")
    parser.add_argument("--window", type=int, default=100, help="trailing window for the threshold")
    parser.add_argument("--ga-population", type=int, default=None, help="GA individuals (20)")
    parser.add_argument("--ga-fitness-episodes", type=int, default=None,
                        help="games per GA fitness (5)")
    parser.add_argument("--numpy-gamma", type=float, default=None,
                        help="numpy-ac discount for every task (default 0.95 CartPole, "
                        "0.99 Acrobot)")
    parser.add_argument("--batch-cost", action="store_true",
                        help="measure B = 16 vs B = 1 training cost instead")
    parser.add_argument("--batch-episodes", type=int, default=None, help="(20)")
    parser.add_argument("--repeats", type=int, default=None, help="batch-cost repeats (3)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1],
                        help="batch cost: network.threads of the B = 16 runs (default 1; e.g. "
                        "--threads 1 2)")
    parser.add_argument("--json", default="auto",
                        help="write results here (default: benchmarks/results/"
                        "rl[_batch][_quick].json)")
    args = parser.parse_args(argv)
    quick = {"episodes": 6, "eval_episodes": 4, "seeds": 2, "max_ticks": 500, "ga_population": 3,
             "ga_fitness_episodes": 2, "batch_episodes": 3, "repeats": 1}
    full = {"episodes": None, "eval_episodes": 100, "seeds": 5, "max_ticks": 500,
            "ga_population": 20, "ga_fitness_episodes": 5, "batch_episodes": 20, "repeats": 3}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    for key in ("eval_episodes", "seeds", "max_ticks", "ga_population",
                "ga_fitness_episodes", "batch_episodes", "repeats", "window"):
        if getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')} = {getattr(args, key)}; expected >= 1")
    if args.episodes is not None and args.episodes < 0:
        parser.error(f"--episodes = {args.episodes}; expected >= 0")
    budgets = {task: args.episodes if args.episodes is not None else TASKS[task]["episodes"]
               for task in args.tasks}
    if any(t < 1 for t in args.threads):
        parser.error(f"--threads = {args.threads}; expected counts >= 1")
    if args.numpy_gamma is not None and not 0.0 < args.numpy_gamma <= 1.0:
        parser.error(f"--numpy-gamma = {args.numpy_gamma}; expected 0 < gamma <= 1")
    if not args.batch_cost and "ga" in args.methods:
        if args.ga_population < 3:
            parser.error(f"--ga-population = {args.ga_population}; expected >= 3 (the GA's "
                         "tournaments draw 3)")
        task = min(budgets, key=budgets.get)
        if args.ga_population * args.ga_fitness_episodes > budgets[task]:
            parser.error(f"--episodes = {budgets[task]} ({task}) does not cover one GA "
                         "generation of "
                         f"--ga-population {args.ga_population} x --ga-fitness-episodes "
                         f"{args.ga_fitness_episodes} games")
    if args.json == "auto":
        name = "rl_batch" if args.batch_cost else "rl"
        args.json = os.path.join(HERE, "results", name + ("_quick" if args.quick else "") + ".json")

    if args.max_ticks < 500 and not args.batch_cost:
        print(f"note: --max-ticks {args.max_ticks} cuts episodes before the games' own 500-step "
              "limit, so returns (and thresholds reached) are not comparable with full runs")
    rows = []
    start = time.perf_counter()
    load_start = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    if args.batch_cost:
        rows = batch_cost(args)
    else:
        for task in args.tasks:
            task_args = copy.copy(args)
            task_args.episodes = budgets[task]
            for method in args.methods:
                t0 = time.perf_counter()
                if method in SPIKING:
                    rows += run_spiking(method, task, task_args)
                else:
                    run = {"ga": run_ga, "numpy-ac": run_numpy, "random": run_random}[method]
                    rows += [run(task, args.seed + s, task_args) for s in range(args.seeds)]
                print(f"{method} on {task}: {time.perf_counter() - t0:.1f} s", flush=True)
    print_table(rows)
    print(f"total {time.perf_counter() - start:.1f} s")
    load_end = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    write_json(args.json, "rl", rows, quick=args.quick, cpu_count=os.cpu_count(),
               load_average_start=load_start, load_average_end=load_end,
               settings={k: v for k, v in vars(args).items() if k != "json"})
    return rows


if __name__ == "__main__":
    main()
