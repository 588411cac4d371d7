"""The ``spikey`` command line: train, tune, evolve, plot, info, cleanup.

``spikey train CONFIG`` trains on a local Ray started for you (``--local``
skips Ray, ``--address auto`` or ``--address HOST:PORT`` attaches to a running
cluster, and so does a set ``RAY_ADDRESS`` without ``--address``). A user
error prints one line on stderr and exits with status 2; ``--set
KEY.PATH=VALUE`` overrides a config value. Results go to ``--storage``
(default ``./spikey_runs``); a run folder that already holds a run is refused
unless ``--resume`` (same config) or ``--overwrite`` is given. A local Ray listens on 127.0.0.1 only; ``spikey
cleanup`` ends the processes of a local run whose driver was killed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys


def _train(args) -> int:
    from spikey.core.params import ConfigError
    from spikey.training.config import check_config

    raw = _load(args)
    if "gradient" in raw:  # surrogate-gradient / e-prop training (spikey.gradients)
        from spikey.gradients.run import train_command

        return train_command(raw, args)
    for section, command in (("search", "tune"), ("evolve", "evolve")):
        if section in raw:
            raise ConfigError(
                f"{args.config}: has a {section!r} section, which `spikey train` does not run; "
                f"use `spikey {command} {args.config}` (or remove the section to train once)")
    config = check_config(raw)  # fail fast, before Ray starts
    name = args.name or os.path.splitext(os.path.basename(args.config))[0]
    storage = os.path.abspath(args.storage)
    if args.resume and args.overwrite:
        raise ConfigError("--resume and --overwrite exclude each other; pass one")
    if args.local:
        from spikey.training.loop import train

        result = train(config, run_dir=os.path.join(storage, name), progress=True,
                       resume=args.resume, overwrite=args.overwrite)
        summary = result.summary
        where = result.run_dir
    else:
        from spikey.training.distributed import train_distributed

        _announce_address(args)
        _exit_cleanly_on_signals()
        out = train_distributed(config, num_workers=args.workers, storage_path=storage,
                                name=name, address=args.address,
                                average_every=args.average_every, resume=args.resume,
                                overwrite=args.overwrite, progress=True)
        summary, where = out.summary, out.run_dir
    from spikey.training.loop import SUMMARY_ALIASES

    # printed with the names that say what they hold (summary.json keeps the older ones too)
    print(json.dumps({k: v for k, v in summary.items() if k not in SUMMARY_ALIASES}, indent=2))
    _where(where, "run folder")
    return 0


def _where(folder: str, what: str) -> None:
    """The closing lines of a command: where its results are and how to plot them."""
    import shlex

    print(f"{what}: {folder}")
    print(f"plot it: spikey plot {shlex.quote(folder)}")


NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def parse_set(item: str) -> tuple:
    """One ``--set KEY.PATH=VALUE``: the dotted path and the value, parsed as YAML.

    ``1e-3`` is a float (plain YAML 1.1 would keep it a string); ``[1, 2]``
    and ``{a: 1}`` are YAML flow lists and mappings; ``null`` is None.

    Parameters
    ----------
    item : str
        The argument as typed.

    Returns
    -------
    (str, object)

    Raises
    ------
    ConfigError
        No ``=``, an empty path or an empty path segment, or a value that is not YAML.
    """
    from spikey.core.params import ConfigError
    from spikey.training.config import parse_yaml

    path, equals, text = item.partition("=")
    path = path.strip()
    if not equals or not path or "" in path.split("."):
        raise ConfigError(f"--set {item!r}: expected KEY.PATH=VALUE with a dotted config path, "
                          "e.g. --set training.episodes=20 or --set network.neurons.tau=15")
    if NUMBER.fullmatch(text.strip()):
        value = float(text) if any(c in text for c in ".eE") else int(text)
    else:
        value = parse_yaml(text, f"--set {path}") if text.strip() else None
    return path, value


def apply_sets(config: dict, items) -> dict:
    """Apply ``--set`` overrides to a loaded config, in place (each path is checked then,
    and again when the command validates the whole config).

    Parameters
    ----------
    config : dict
        The config as loaded.
    items : list of str
        The ``KEY.PATH=VALUE`` arguments.

    Returns
    -------
    dict
        ``config``.

    Raises
    ------
    ConfigError
        A malformed item, or a path whose first segment is not a section of the config.
    """
    from spikey.core.params import ConfigError, suggest
    from spikey.training.config import SECTIONS

    known = list(dict.fromkeys([*SECTIONS, *config]))
    for item in items or ():
        path, value = parse_set(item)
        section = path.split(".")[0]
        if section not in known:
            raise ConfigError(f"--set {item!r}: no section {section!r} in the config"
                              f"{suggest(section, known)} (sections: {known})")
        _assign(config, path.split("."), value, item)
    return config


def _assign(node, parts: list, value, item: str) -> None:
    """Set ``value`` at the path ``parts`` below ``node``. A mapping whose keys are dotted
    paths themselves (``search:``, ``evolve.genes``) is matched on its longest key."""
    from spikey.core.params import ConfigError

    if isinstance(node, dict):
        n = next((n for n in range(len(parts), 1, -1) if ".".join(parts[:n]) in node), 1)
        key = ".".join(parts[:n])
        if n == len(parts):
            node[key] = value
            return
        _assign(node.setdefault(key, {}), parts[n:], value, item)
    elif isinstance(node, list):
        index = parts[0]
        if not (index.isdigit() and int(index) < len(node)):
            raise ConfigError(f"--set {item!r}: no item {index!r} in a list of {len(node)}")
        if len(parts) == 1:
            node[int(index)] = value
        else:
            _assign(node[int(index)], parts[1:], value, item)
    else:
        raise ConfigError(f"--set {item!r}: the path goes below {node!r}, which is a value, "
                          "not a section")


def _load(args) -> dict:
    """The command's config file, loaded, with its ``--set`` overrides applied."""
    from spikey.training.config import load_config

    return apply_sets(load_config(args.config), getattr(args, "set", None))


def _announce_address(args) -> None:
    """Say when ``RAY_ADDRESS`` (not ``--address``) decides which Ray is used."""
    from spikey.training.distributed import resolve_address

    address, origin = resolve_address(args.address)
    if origin:
        print(f"spikey {args.command}: attaching to the Ray cluster at {address}{origin}; "
              "--address local starts a local Ray instead", file=sys.stderr, flush=True)


def _exit_cleanly_on_signals() -> None:
    """Turn SIGTERM and SIGHUP into SystemExit, so atexit shuts the local Ray down.

    SIGINT already raises KeyboardInterrupt. A ``kill -9`` cannot be caught: then
    the watchdog started with the local Ray ends its processes (see
    :mod:`spikey.training.ray_cleanup`).
    """
    import signal

    def leave(signum, frame):
        raise SystemExit(128 + signum)

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name) and signal.getsignal(getattr(signal, name)) in (
                signal.SIG_DFL, None):
            signal.signal(getattr(signal, name), leave)


def _cleanup(args) -> int:
    from spikey.core.params import ConfigError
    from spikey.training.ray_cleanup import PREFIX, kill_run, owner_alive, stale_runs

    folders = [os.path.abspath(f) for f in args.folders] or stale_runs()
    for folder in folders:
        if not os.path.basename(folder).startswith(PREFIX):
            raise ConfigError(f"{folder} is not a spikey Ray folder ({PREFIX}*)")
        if owner_alive(folder) and not args.force:
            print(f"{folder}: its driver is still running (add --force to end it anyway)")
            continue
        killed = kill_run(folder)
        print(f"{folder}: ended {killed} process(es), removed the folder")
    if not folders:
        print("no spikey Ray folders left by dead runs")
    return 0


def _tune(args) -> int:
    from spikey.core.params import ConfigError
    from spikey.training.config import check_config
    from spikey.training.tune import check_metric, check_sweep_folder, tune_config

    config = _load(args)
    if "gradient" in config:  # a sweep of a gradient config (spikey.gradients, issue 16)
        from spikey.gradients.distributed import tune_command

        return tune_command(config, args)
    space = config.pop("search", None)
    if not space:
        raise ConfigError(f"{args.config}: a tune config needs a 'search' section of config path "
                          "-> spec, e.g. search: {training.seed: {grid: [0, 1]}}")
    check_metric(args.metric, args.mode, check_config(config))
    name = args.name or os.path.splitext(os.path.basename(args.config))[0]
    check_sweep_folder(os.path.join(os.path.abspath(args.storage), name), args.overwrite)
    _announce_address(args)
    _exit_cleanly_on_signals()
    result = tune_config(config, space, num_samples=args.samples,
                         storage_path=os.path.abspath(args.storage), name=name,
                         address=args.address, progress=True, metric=args.metric,
                         mode=args.mode)
    print(result.table().to_string(index=False))
    print("best config:", json.dumps(result.best_params))
    _where(result.run_dir, "sweep folder (one run folder per trial)")
    return 0


def _evolve(args) -> int:
    from spikey.core.params import ConfigError
    from spikey.meta.evolve import evolve

    config = _load(args)
    if "evolve" not in config:
        raise ConfigError(f"{args.config}: an evolve config needs an 'evolve' section (see "
                          "meta/README.md)")
    name = args.name or os.path.splitext(os.path.basename(args.config))[0]
    if isinstance(config["evolve"], dict) and config["evolve"].get("backend") == "ray":
        _announce_address(args)
    _exit_cleanly_on_signals()
    best, history = evolve(config, storage_path=args.storage, name=name, address=args.address,
                           progress=True, overwrite=args.overwrite)
    best_fitness = history["fitness"].max()
    print(f"generations: {history['generation'].nunique()}, individuals: {len(history)}")
    print(f"best fitness {best_fitness:.4g} with",
          json.dumps({k: _plain(v) for k, v in best.items()}))
    _where(os.path.abspath(os.path.join(args.storage, name)), "results (ga.json, history.csv)")
    return 0


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def _plot(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from spikey.training.plots import plot_run
    from spikey.training.reader import find_runs

    if not os.path.isdir(args.run_dir):
        raise FileNotFoundError(f"{args.run_dir!r} is not a folder")
    runs = find_runs(args.run_dir)
    history = os.path.join(args.run_dir, "history.csv")
    if not runs and os.path.isfile(history):  # a `spikey evolve` folder
        print(_plot_evolution(history, args.out or os.path.join(args.run_dir, "plots")))
        return 0
    if not runs:
        raise FileNotFoundError(f"no run folders under {args.run_dir!r} (a run folder holds "
                                "config.json and metrics/episodes.csv)")
    for run in runs:
        out = args.out
        if out is not None and len(runs) > 1:  # one subfolder per run
            out = os.path.join(out, os.path.relpath(run, args.run_dir))
        for path in plot_run(run, out=out):
            print(path)
    return 0


def _plot_evolution(history: str, out: str) -> str:
    import matplotlib.pyplot as plt
    import pandas as pd

    from spikey.viz import fitness_over_generations

    os.makedirs(out, exist_ok=True)
    ax = fitness_over_generations(pd.read_csv(history))
    path = os.path.join(out, "fitness.png")
    ax.figure.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(ax.figure)
    return path


GAMES = ("Logic", "CartPole")  # games declare keys like parts (family "games")


def _catalogue() -> dict:
    """Every name ``spikey info`` knows: ``{family: {name: class}}``, with the network's
    own keys (family ``network``, part ``Network``) and the games (family ``games``)."""
    import spikey  # noqa: F401  (registers every part)
    import spikey.games as games
    from spikey.snn.network import all_parts

    out = {"network": {"Network": None}}
    out.update({family: dict(classes) for family, classes in all_parts().items()})
    out["games"] = {name: getattr(games, name) for name in GAMES}
    return out


def _pick(name: str, known, what: str, hint: str) -> str:
    """``name`` if known; else a ConfigError with a suggestion found case-insensitively."""
    import difflib

    from spikey.core.params import ConfigError

    if name in known:
        return name
    folded = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(folded), n=1, cutoff=0.6)
    guess = folded.get(name.lower()) or (folded[close[0]] if close else None)
    tip = f"; did you mean {guess!r}?" if guess else ""
    raise ConfigError(f"unknown {what} {name!r}{tip} ({hint})")


def _rows(family: str, name: str, cls) -> list:
    if family == "network":
        from spikey.snn.network import NETWORK_KEYS

        return [dict(section="network", part="Network", **k.describe()) for k in NETWORK_KEYS]
    return [dict(section=family, part=name, **d) for d in cls.schema()]


def format_keys(rows: list) -> str:
    """The ``spikey info`` table (:func:`spikey.snn.network.format_schema`): a header, one
    block per part, required keys marked.

    Parameters
    ----------
    rows : list of dict
        Schema rows (``section``, ``part``, ``key``, ``type``, ``default``,
        ``range``, ``choices``, ``description``), as ``Part.schema()`` gives them.

    Returns
    -------
    str
    """
    from spikey.snn.network import format_schema

    return format_schema(rows)


def _info(args) -> int:
    catalogue = _catalogue()
    hint = "`spikey info --list` lists every family and name"
    family = _pick(args.family, catalogue, "family", hint) if args.family else None
    part = None
    if args.part:
        owners = [f for f, names in catalogue.items() if args.part in names]
        if family is not None and family not in owners and owners:
            from spikey.core.params import ConfigError

            raise ConfigError(f"{args.part!r} is a part of family {owners[0]!r}, not "
                              f"{family!r}; drop --family or use --family {owners[0]} ({hint})")
        known = catalogue[family] if family else {n for names in catalogue.values() for n in names}
        part = _pick(args.part, known, "part" if family is None else f"{family} part", hint)
    if args.list:
        for fam, names in catalogue.items():
            if family in (None, fam):
                print(f"{fam}: {', '.join(sorted(names))}")
        return 0
    rows = []
    for fam, names in catalogue.items():
        if family not in (None, fam):
            continue
        for name, cls in sorted(names.items()):
            if part in (None, name):
                rows += _rows(fam, name, cls)
    print(format_keys(rows))
    return 0


def main(argv=None) -> int:
    """Run the ``spikey`` command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name; default: ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 on success, 2 for a user error (a bad or missing
        config, a used run folder, an unknown part name, an unreachable
        cluster), reported in one line on stderr without a traceback.
    """
    parser = argparse.ArgumentParser(prog="spikey", description="Spikey spiking networks")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a network on a game")
    train.add_argument("config", help="experiment config (.yaml or .json)")
    train.add_argument("--workers", type=int, default=1, help="Ray Train workers")
    address_help = ("Ray cluster: 'auto' or HOST:PORT attaches, 'local' starts a local Ray; "
                    "default: RAY_ADDRESS when set, else a local Ray")
    train.add_argument("--address", default=None, help=address_help)
    train.add_argument("--local", action="store_true", help="run in this process, without Ray")
    train.add_argument("--storage", default="spikey_runs", help="folder for results")
    train.add_argument("--name", default=None, help="run name (default: config file name)")
    train.add_argument("--average-every", type=int, default=0,
                       help="average weights across workers every N episodes (0: never)")
    train.add_argument("--resume", action="store_true",
                       help="continue the run already in the run folder (same config)")
    train.add_argument("--overwrite", action="store_true",
                       help="delete the run already in the run folder and start afresh")
    train.set_defaults(func=_train)
    sets = dict(action="append", default=[], metavar="KEY.PATH=VALUE",
                help="override one config value (repeatable), e.g. --set training.episodes=20 "
                     "--set network.neurons.tau=15; VALUE is read as YAML (1e-3, true, [1, 2])")
    train.add_argument("--set", **sets)

    tune = sub.add_parser("tune", help="sweep config keys with Ray Tune")
    tune.add_argument("config", help="experiment config with a `search:` section")
    tune.add_argument("--samples", type=int, default=1,
                      help="samples of the search space (each grid point runs this many times)")
    tune.add_argument("--address", default=None, help=address_help)
    tune.add_argument("--storage", default="spikey_runs", help="folder for results")
    tune.add_argument("--name", default=None, help="sweep name (default: config file name)")
    tune.add_argument("--overwrite", action="store_true",
                      help="delete an earlier sweep of the same name first")
    tune.add_argument("--metric", default="mean_reward",
                      help="what the sweep optimises: mean_reward or mean_return (per episode; "
                           "ASHA stops poor trials early) or a run-summary key such as "
                           "eval_mean_reward (known when a trial ends)")
    tune.add_argument("--mode", default="max", choices=("max", "min"),
                      help="maximise or minimise the metric")
    tune.add_argument("--set", **sets)
    tune.set_defaults(func=_tune)

    evolve = sub.add_parser("evolve", help="evolve a config with the genetic algorithm")
    evolve.add_argument("config")
    evolve.add_argument("--address", default=None, help=address_help + " (ray backend)")
    evolve.add_argument("--storage", default="spikey_runs")
    evolve.add_argument("--name", default=None)
    evolve.add_argument("--overwrite", action="store_true",
                        help="discard the ga.json an earlier run left and start afresh")
    evolve.add_argument("--set", **sets)
    evolve.set_defaults(func=_evolve)

    plot = sub.add_parser("plot", help="plot runs (learning curve, raster, weights)")
    plot.add_argument("run_dir", metavar="FOLDER",
                      help="a run folder, any folder holding runs (each is plotted), or a "
                           "`spikey evolve` folder (fitness per generation)")
    plot.add_argument("--out", default=None,
                      help="folder for the PNG files (default: each run's plots/ folder)")
    plot.set_defaults(func=_plot)

    catalogue = _catalogue()
    info = sub.add_parser("info", help="list parts (and games) and their keys",
                          description="List the config keys of every part, or of one family "
                                      "or part; --list prints the names only.")
    info.add_argument("--family", default=None, metavar="FAMILY",
                      help="only this family's parts; one of: " + ", ".join(catalogue))
    info.add_argument("--part", default=None, metavar="NAME",
                      help="only this part (case-sensitive class name, e.g. LIF, MSTDPET, "
                           "Logic); `--list` shows every name")
    info.add_argument("--list", action="store_true",
                      help="print the family and part names only, no keys")
    info.set_defaults(func=_info)

    cleanup = sub.add_parser("cleanup", help="end the Ray processes a killed local run left")
    cleanup.add_argument("folders", nargs="*",
                         help="a run's Ray folder (default: every spikey-ray-* folder whose "
                              "driver is gone)")
    cleanup.add_argument("--force", action="store_true",
                         help="also end runs whose driver is still running")
    cleanup.set_defaults(func=_cleanup)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except USER_ERRORS as error:
        # a mistake of the user's (config, file, folder, address): one line, no traceback
        text = " ".join(str(error).split()) or type(error).__name__
        sets = getattr(args, "set", None)
        if sets and "--set" not in text and _is_config_error(error):
            text += f" (in the config with --set {' --set '.join(sets)})"
        print(f"spikey {args.command}: error: {text}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: no traceback; a run folder keeps its last checkpoint
        hint = " (continue it with --resume)" if getattr(args, "resume", None) is not None else ""
        print(f"spikey {args.command}: interrupted{hint}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `spikey info | head`
        sys.stderr.close()
        return 0


def _is_config_error(error) -> bool:
    from spikey.core.params import ConfigError

    return isinstance(error, ConfigError)


def _user_errors() -> tuple:
    from spikey.core.params import ConfigError

    # OSError covers a missing file or folder, a used run folder (RunFolderError is a
    # FileExistsError) and an unreachable cluster (ConnectionError)
    return (ConfigError, OSError)


USER_ERRORS = _user_errors()


if __name__ == "__main__":
    sys.exit(main())
