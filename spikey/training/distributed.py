"""Distributed training on Ray Train (V2 ``DataParallelTrainer``, no torch).

Each of ``num_workers`` workers trains its own replicas of the config: a
batch of ``batch_size`` members seeded ``seed + rank * batch_size + b``. Every
``training.checkpoint_every`` episodes (every episode when it is 0) each worker
writes a checkpoint in the core save format and reports it with its metrics
through ``ray.train.report`` (only then: each report waits ~0.2 s for Ray Train's
controller, more than an XOR episode); with ``FailureConfig(max_failures=...)`` a
worker group that fails restarts from the last reported checkpoint and plays the
episodes after it again, bit for bit as they were (the metrics are cut back to
it), so no episode is lost or counted twice.
Optionally, every ``average_every`` episodes, the workers replace their
weights by the mean over all workers (through a small averaging actor).

By default a local Ray is started for the caller; ``address="auto"`` or
``"host:port"`` attaches to a running cluster (then ``storage_path`` must be
storage that every node can reach).
"""

from __future__ import annotations

import copy
import os
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spikey.training.config import check_config
from spikey.training.loop import RAY_RUN_FILE as RUN_FILE  # storage_path/name: what started the run

QUIET_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_DEDUP_LOGS": "0",
    "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "0.2",
}


@dataclass
class DistributedResult:
    """What :func:`train_distributed` returns."""

    episodes: pd.DataFrame
    summary: dict
    run_dir: str
    metrics: dict


LOOPBACK = "127.0.0.1"
_LOCAL = {}  # the local Ray this process started: temp folder and watchdog


def init_ray(address: str | None = None, num_cpus: int | None = None) -> None:
    """Start a local Ray (``address=None``) or attach to a cluster; fail fast if unreachable.

    A local Ray listens on the loopback interface only (GCS, raylet, object
    manager, workers and agents bind ``127.0.0.1``; no dashboard), keeps Ray's
    token authentication (on by default for a new local cluster since Ray 2.59;
    the token is ``~/.ray/auth_token``, created on first use) and keeps its files in
    a private temp folder of its own, cleaned up by a watchdog when this process
    exits, even by ``kill -9`` (see :mod:`spikey.training.ray_cleanup`).

    Parameters
    ----------
    address : str, optional
        ``None`` attaches to the cluster that ``RAY_ADDRESS`` names when that
        is set (as ``ray.init`` does), else starts a local Ray; ``'local'``
        always starts a local Ray; ``'auto'`` or ``'host:port'`` attaches to a
        running cluster (whose authentication is the cluster's: set
        ``RAY_AUTH_MODE=token`` and provide its token, see the README).
    num_cpus : int, optional
        CPUs of a local Ray (default: all).

    Raises
    ------
    ConnectionError
        The cluster cannot be reached or refused this process (e.g. a wrong or
        missing authentication token), with the cause in the message.
    ValueError
        An address that is neither ``'auto'``, ``'local'`` nor ``HOST:PORT``.
    """
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    import ray

    if ray.is_initialized():
        return
    address, origin = resolve_address(address)
    if address is None:
        _start_local_ray(ray, num_cpus)
        return
    if address != "auto":
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"Ray address {address!r}{origin}: expected 'auto', 'local' or "
                             "HOST:PORT")
        try:
            socket.create_connection((host, int(port)), timeout=3).close()
        except OSError as error:
            raise ConnectionError(f"cannot reach a Ray cluster at {address!r}{origin}: "
                                  f"{error}") from error
    with _captured_stderr() as captured:
        try:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as error:
            captured.failed = True
            cause = _attach_cause(captured.text(), str(error))
            raise ConnectionError(f"cannot attach to the Ray cluster at {address!r}{origin}: "
                                  f"{cause}") from None


def resolve_address(address: str | None) -> tuple:
    """The Ray address to use and where it came from (for messages).

    Parameters
    ----------
    address : str or None
        As given to :func:`init_ray`.

    Returns
    -------
    (str or None, str)
        The address (None: start a local Ray) and ``' (from RAY_ADDRESS)'``
        when it came from that variable, else ``''``.
    """
    if address == "local":
        return None, ""
    if address is None:
        env = os.environ.get("RAY_ADDRESS", "").strip()
        if env and env != "local":
            return env, " (from RAY_ADDRESS)"
        return None, ""
    return address, ""


AUTH_HINT = ("set RAY_AUTH_MODE=token and give the cluster's token in RAY_AUTH_TOKEN (or a "
             "file named by RAY_AUTH_TOKEN_PATH); see 'Clusters authenticate with Ray's token' in the "
             "README")


def _attach_cause(logged: str, message: str) -> str:
    """One line saying why attaching failed, from Ray's logged warnings and its error."""
    lines = [line.strip() for line in logged.splitlines() if line.strip()]
    auth = [line for line in lines if "unauthenticated" in line.lower()
            or "authtoken" in line.lower().replace(" ", "")]
    if auth:
        detail = auth[-1].split("] ", 1)[-1]
        detail = detail.split(": ", 1)[-1] if "gcs_client" in detail else detail
        return f"the cluster refused this process's authentication token ({detail}); {AUTH_HINT}"
    warnings = [line.split("] ", 1)[-1] for line in lines if " W " in line or " E " in line]
    if warnings:
        return f"{message} (Ray reported: {warnings[-1]})"
    return message


class _Captured:
    def __init__(self, path):
        self.path, self.failed = path, False

    def text(self) -> str:
        sys.stderr.flush()
        try:
            with open(self.path, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""


class _captured_stderr:
    """Send file descriptor 2 (Ray's C++ warnings included) to a temp file while attaching;
    replay it unless the attach failed (then its cause goes into one error line)."""

    def __enter__(self):
        fd, path = tempfile.mkstemp(prefix="spikey-attach-", suffix=".log")
        self.file_fd = fd
        sys.stderr.flush()
        self.saved = os.dup(2)
        os.dup2(fd, 2)
        self.captured = _Captured(path)
        return self.captured

    def __exit__(self, *exc):
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)
        os.close(self.file_fd)
        text = self.captured.text()
        os.unlink(self.captured.path)
        if text and not self.captured.failed:
            sys.stderr.write(text)
            sys.stderr.flush()
        return False


def _start_local_ray(ray, num_cpus):
    from spikey.training.ray_cleanup import make_temp_dir, start_watchdog

    # RAY_AUTH_MODE is left to Ray: unset, a new local cluster turns token
    # authentication on (Ray >= 2.59; setting it here, after Ray read its config,
    # would desynchronize driver and GCS). A user's explicit "disabled" is respected.
    auth_mode = os.environ.get("RAY_AUTH_MODE", "").lower()
    if auth_mode == "disabled":  # the user's choice: warn, never set it ourselves
        import warnings

        warnings.warn(f"RAY_AUTH_MODE is {auth_mode!r}: the local Ray listens on 127.0.0.1 only, "
                      "but any process on this machine can run code in it", RuntimeWarning,
                      stacklevel=3)
    previous = _LOCAL.pop("watchdog", None)
    if previous is not None:  # that Ray was shut down: let its watchdog clean its folder now
        previous.stdin.close()
    folder = make_temp_dir()  # mode 0700; Ray makes its own folder in it 0777 (shared)
    watchdog = start_watchdog(folder)
    # On Linux Ray replaces a loopback node address by the machine's network
    # address unless Ray runs "without clusters" (the macOS/Windows default);
    # then every Ray server binds the node address, 127.0.0.1. Ray reads the
    # switch at import (ray_constants) and its children read the variable, so
    # both are set, for the start alone (the processes started now keep it).
    from ray._private import ray_constants

    switch = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
    saved = os.environ.get(switch), ray_constants.ENABLE_RAY_CLUSTER
    os.environ[switch], ray_constants.ENABLE_RAY_CLUSTER = "0", False
    try:
        ray.init(address="local", num_cpus=num_cpus or os.cpu_count(), include_dashboard=False,
                 dashboard_host=LOOPBACK, _node_ip_address=LOOPBACK,
                 _temp_dir=os.path.join(folder, "r"), log_to_driver=False, configure_logging=False)
    except BaseException:
        watchdog.stdin.close()  # the watchdog removes what ray.init left behind
        raise
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved[1]
        if saved[0] is None:
            os.environ.pop(switch, None)
        else:
            os.environ[switch] = saved[0]
    node_ip = ray.util.get_node_ip_address()
    if node_ip != LOOPBACK:
        import warnings

        warnings.warn(f"the local Ray took node address {node_ip}, not {LOOPBACK}: its servers "
                      "may be reachable from the network", RuntimeWarning, stacklevel=3)
    _LOCAL.update(temp_dir=folder, watchdog=watchdog)


def local_ray_temp_dir() -> str | None:
    """The temp folder of the local Ray this process started, if any.

    Returns
    -------
    str or None
        ``None`` when no local Ray was started here.
    """
    return _LOCAL.get("temp_dir")


class _Averager:
    """Collects one weight matrix per worker per round and hands back their mean."""

    def __init__(self, world_size: int):
        self.world_size = world_size
        self.rounds = {}

    def submit(self, round_id: int, rank: int, matrix):
        self.rounds.setdefault(round_id, {})[rank] = matrix

    def mean(self, round_id: int):
        got = self.rounds.get(round_id, {})
        if len(got) < self.world_size:
            return None
        return np.mean([got[r] for r in sorted(got)], axis=0)


class _Progress:
    """Per-episode lines from the workers, collected for the driver to print."""

    def __init__(self):
        self.lines = []

    def add(self, line: str) -> None:
        self.lines.append(line)

    def take(self) -> list:
        lines, self.lines = self.lines, []
        return lines


class _ProgressPrinter:
    """A driver thread printing the workers' progress lines as they arrive (the driver
    itself is blocked in ``trainer.fit()``; Ray's worker logs are not forwarded).

    It also watches the cluster's CPUs: when fewer than the run's workers need are left
    (a node died), Ray Train waits silently for a replacement, so the printer says once
    that the run is waiting and why, and once more when the CPUs are back.
    """

    def __init__(self, actor, stream, every: float = 0.5, needed_cpus: float = 0,
                 resources=None):
        import threading

        self.actor, self.stream, self.every = actor, stream, every
        self.needed_cpus, self.resources = needed_cpus, resources
        self.waiting = False
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _print_new(self) -> None:
        import ray

        try:
            lines = ray.get(self.actor.take.remote(), timeout=10)
        except Exception:  # noqa: BLE001 - progress must never end the run
            return
        for line in lines:
            print(line, file=self.stream, flush=True)

    def check_capacity(self) -> None:
        """Say once that the run waits when the cluster has fewer CPUs than its workers
        need, and once that it goes on when they are back."""
        if not self.needed_cpus:
            return
        try:
            have = float((self.resources or _cluster_resources)().get("CPU", 0.0))
        except Exception:  # noqa: BLE001 - a watcher must never end the run
            return
        if have < self.needed_cpus and not self.waiting:
            self.waiting = True
            print(f"spikey train: waiting: the cluster has {have:g} CPUs, the run's workers need "
                  f"{self.needed_cpus:g} (a node left?). Ray Train restarts the workers from their "
                  "last checkpoint when enough CPUs join (`ray start --address=HEAD:PORT` on a "
                  "node). A run folder is tied to its worker count: to go on with fewer workers, "
                  "press Ctrl-C and start a new run with --workers K and another --name.",
                  file=self.stream, flush=True)
        elif have >= self.needed_cpus and self.waiting:
            self.waiting = False
            print(f"spikey train: the cluster has {have:g} CPUs again; the workers restart from "
                  "their last checkpoint", file=self.stream, flush=True)

    def _loop(self) -> None:
        polls = 0
        while not self.stop.wait(self.every):
            self._print_new()
            polls += 1
            if polls % 10 == 0:  # the cluster's CPUs every 10 polls (5 s), not every poll
                self.check_capacity()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self._print_new()


def _cluster_resources() -> dict:
    import ray

    return ray.cluster_resources()


def _worker_config(config: dict, rank: int) -> dict:
    config = copy.deepcopy(config)
    B = config["network"]["network"]["batch_size"]
    # the run seed of worker r is seed + r*B, so its member b is seeded seed + r*B + b
    config["training"]["seed"] += rank * B
    config["network"]["network"]["seed"] = config["training"]["seed"]
    # the config's checkpoint interval; 0 (only at the end) would leave a failed worker
    # nothing to restart from, so a Ray worker then checkpoints every episode
    config["training"]["checkpoint_every"] = config["training"].get("checkpoint_every") or 1
    return config


def worker_loop(loop_config: dict) -> dict:
    """The per-worker training function (runs inside a Ray Train worker)."""
    import ray.train

    context = ray.train.get_context()
    rank = context.get_world_rank()
    config = _worker_config(loop_config["config"], rank)
    scratch = tempfile.mkdtemp(prefix=f"spikey-rank{rank}-")
    try:
        return _worker_run(loop_config, rank, config, os.path.join(scratch, "run"))
    finally:  # the run lives on in the checkpoints Ray reported; the scratch copy goes
        shutil.rmtree(scratch, ignore_errors=True)


def _worker_run(loop_config: dict, rank: int, config: dict, run_dir: str) -> dict:
    import ray.train

    from spikey.training.loop import train

    resume = False
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            mine = os.path.join(folder, f"rank_{rank}")
            if os.path.isdir(mine):
                shutil.copytree(mine, run_dir)
                resume = True
    averager = loop_config.get("averager")
    average_every = loop_config.get("average_every", 0)
    fail_at = loop_config.get("fail_at_episode")
    marker = loop_config.get("fail_marker")

    def average(network, episode, rows):
        if averager is None or not average_every or (episode + 1) % average_every:
            return
        import ray

        weights = network.parts["weights"]
        ray.get(averager.submit.remote(episode, rank, weights.matrix))
        while (mean := ray.get(averager.mean.remote(episode))) is None:
            time.sleep(0.05)
        weights.matrix[...] = (mean * weights.mask).astype(weights.matrix.dtype)

    def inject_failure(network, episode, rows):
        if fail_at is not None and episode == fail_at and rank == 0 and not os.path.exists(marker):
            open(marker, "w").close()
            raise RuntimeError(f"injected failure in episode {episode} (test)")

    progress = loop_config.get("progress")
    episodes = config["training"]["episodes"]

    reported = [None]  # latest.json's text at the last report

    def report(network, episode, rows, run_dir):
        metrics = {"episode": episode, "rank": rank,
                   "mean_return": float(rows["return"].mean()),
                   "mean_reward": float(rows["mean_reward"].mean())}
        # Ray hears of an episode only when the loop wrote a new checkpoint since the last
        # report (and at the end): a resume starts from latest.json's checkpoint (cutting the
        # metrics back to it), so a report between checkpoints restores nothing more, and
        # each report costs ~0.2 s (Ray Train syncs the ranks through an actor; under load,
        # more than an XOR episode) besides the folder's copy, which grew with ticks.csv
        latest = _latest(run_dir)
        if latest is not None and latest != reported[0]:
            _report(rank, run_dir, metrics)
            reported[0] = latest
        if progress is not None:
            progress.add.remote(f"worker {rank}: episode {episode + 1}/{episodes}, mean return "
                                f"{metrics['mean_return']:.4g} over {len(rows)} member(s)")

    result = train(config, run_dir=run_dir, resume=resume, callbacks=[inject_failure, average],
                   reporters=[report], progress=False)
    _report(rank, run_dir, {"episode": config["training"]["episodes"], "rank": rank, "final": True,
                            **result.summary})
    return result.summary


def _latest(run_dir: str):
    """The text of the run's ``checkpoints/latest.json`` (None before its first checkpoint)."""
    try:
        with open(os.path.join(run_dir, "checkpoints", "latest.json"), encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _report(rank: int, run_dir: str, metrics: dict) -> None:
    import ray.train

    with tempfile.TemporaryDirectory() as staging:
        target = os.path.join(staging, f"rank_{rank}")
        shutil.copytree(run_dir, target, ignore=_older_checkpoints(run_dir))
        ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(staging))


def _older_checkpoints(run_dir):
    import json

    latest = os.path.join(run_dir, "checkpoints", "latest.json")
    keep = None
    if os.path.exists(latest):
        with open(latest, encoding="utf-8") as handle:
            keep = json.load(handle)["network"]

    def ignore(folder, names):
        if os.path.basename(folder) != "checkpoints":
            return []
        return [n for n in names if n.endswith(".npz") and n != keep]

    return ignore




def _prepare_run_folder(folder: str, identity: dict, resume: bool, overwrite: bool) -> None:
    """Refuse a folder that holds another run, unless resuming it or overwriting it.

    The same rules as the local loop's run folders: resume needs the same
    config (and here the same workers), and starts afresh when there is
    nothing to resume.
    """
    import json

    from spikey.core.params import ConfigError
    from spikey.training.loop import RunFolderError, write_json

    if resume and overwrite:
        raise ValueError("train_distributed: resume=True and overwrite=True exclude each other; "
                         "pass one (--resume or --overwrite)")
    holds_run = os.path.isdir(folder) and any(not n.startswith(".") for n in os.listdir(folder))
    if holds_run and overwrite:
        shutil.rmtree(folder)
        holds_run = False
    if holds_run:
        hint = "pass --overwrite (overwrite=True) to replace it, or choose another --name/--storage"
        if os.path.exists(os.path.join(folder, "config.json")) and not os.path.exists(
                os.path.join(folder, RUN_FILE)):
            raise RunFolderError(
                f"run folder {folder} holds a local run (`spikey train --local`); a Ray run of "
                f"the same config needs its own folder: {hint}")
        if not resume:
            raise RunFolderError(
                f"run folder {folder} already holds a run; pass --resume (resume=True) to "
                f"continue it with the same config, or {hint}")
        try:
            with open(os.path.join(folder, RUN_FILE), encoding="utf-8") as handle:
                stored = json.load(handle)
        except (OSError, ValueError):
            raise RunFolderError(
                f"run folder {folder} holds files but no readable {RUN_FILE} (not a spikey run, "
                f"or one from an older version), so it cannot be resumed; {hint}") from None
        mine = json.loads(json.dumps(identity, sort_keys=True, default=_plain))
        if stored != mine:
            changed = sorted(_differences(stored, mine))
            raise ConfigError(
                f"cannot resume run folder {folder} with a different config (differs at "
                f"{', '.join(changed[:8]) or '?'}): resume needs the same config and workers; "
                f"{hint}")
    os.makedirs(folder, exist_ok=True)
    write_json(os.path.join(folder, RUN_FILE), identity)


def _plain(value):
    return value.item() if hasattr(value, "item") else str(value)


def _differences(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            yield from _differences(a.get(key), b.get(key), f"{path}.{key}" if path else key)
    elif a != b:
        yield path or "(top)"


def train_distributed(config, num_workers: int = 1, storage_path: str | None = None,
                      name: str = "spikey", address: str | None = None, average_every: int = 0,
                      max_failures: int = 1, fail_at_episode: int | None = None,
                      resume: bool = False, overwrite: bool = False,
                      progress: bool | None = None) -> DistributedResult:
    """Train replicas of ``config`` on ``num_workers`` Ray Train workers.

    Parameters
    ----------
    config : dict or path
        Experiment config; validated before Ray starts.
    num_workers : int
        Ray Train workers (0 runs one replica in this process).
    storage_path : str
        Absolute folder for Ray's results and the final run folders
        (``storage_path/name/runs/rank_r``). Default: ``./spikey_runs``.
    address : str, optional
        ``None`` attaches to ``RAY_ADDRESS`` when it is set, else starts a
        local Ray; ``'local'`` starts a local Ray; ``'auto'`` or
        ``'host:port'`` attaches (see :func:`init_ray`).
    average_every : int
        Average weights across workers every this many episodes (0: never).
    max_failures : int
        Worker-group restarts allowed (from the last checkpoint).
    fail_at_episode : int, optional
        Inject one failure in this episode on rank 0 (for tests).
    resume : bool
        ``storage_path/name`` holds a run of the same config and workers:
        continue it from its last checkpoint (Ray Train restores it); with
        nothing there, start afresh.
    overwrite : bool
        Delete what ``storage_path/name`` holds and start afresh.
    progress : bool, optional
        Print one line per worker and episode (episode, mean return) on
        stderr as the run goes; default: only when stderr is a terminal.

    Raises
    ------
    spikey.training.loop.RunFolderError
        ``storage_path/name`` holds a run and neither ``resume`` nor
        ``overwrite`` was asked (a ``FileExistsError``).
    ConfigError
        ``resume`` was asked with another config or worker count.

    Returns
    -------
    DistributedResult
    """
    from spikey.training.loop import seeded_config

    config = check_config(seeded_config(config))  # training.seed seeds the networks
    if num_workers < 0:
        raise ValueError(f"num_workers = {num_workers}; expected >= 0")
    storage_path = os.path.abspath(storage_path or "spikey_runs")
    os.makedirs(storage_path, exist_ok=True)
    _prepare_run_folder(os.path.join(storage_path, name),
                        {"config": config, "num_workers": num_workers,
                         "average_every": average_every}, resume, overwrite)
    init_ray(address)
    import ray
    import ray.train
    from ray.train import CheckpointConfig, FailureConfig, ScalingConfig
    from ray.train.v2.api.data_parallel_trainer import DataParallelTrainer

    averager = None
    if average_every and num_workers > 1:
        averager = ray.remote(num_cpus=0)(_Averager).remote(num_workers)
    if progress is None:
        progress = sys.stderr.isatty()
    progress_actor = ray.remote(num_cpus=0)(_Progress).remote() if progress else None
    loop_config = {"config": config, "averager": averager, "average_every": average_every,
                   "fail_at_episode": fail_at_episode, "progress": progress_actor,
                   "fail_marker": os.path.join(storage_path, f".{name}-failed-once")}
    trainer = DataParallelTrainer(
        worker_loop,
        train_loop_config=loop_config,
        scaling_config=ScalingConfig(num_workers=num_workers),
        run_config=ray.train.RunConfig(
            name=name, storage_path=storage_path,
            failure_config=FailureConfig(max_failures=max_failures),
            checkpoint_config=CheckpointConfig(num_to_keep=2)),
    )
    printer = None if progress_actor is None else _ProgressPrinter(
        progress_actor, sys.stderr, needed_cpus=num_workers)
    try:
        result = trainer.fit()
    finally:
        if printer is not None:
            printer.close()
            ray.kill(progress_actor)
    if result.error is not None:
        raise result.error
    run_dir = os.path.join(storage_path, name, "runs")
    metrics = {}
    if result.checkpoint is not None:
        with result.checkpoint.as_directory() as folder:
            for entry in sorted(os.listdir(folder)):
                if entry.startswith("rank_"):
                    target = os.path.join(run_dir, entry)
                    shutil.rmtree(target, ignore_errors=True)
                    shutil.copytree(os.path.join(folder, entry), target)
        metrics = result.metrics or {}
    from spikey.training.reader import load_runs
    from spikey.training.loop import summarize

    episodes = load_runs(run_dir) if os.path.isdir(run_dir) else pd.DataFrame()
    summary = summarize(episodes, 0.0)
    summary.pop("wall_time", None)
    summary["workers"] = num_workers
    return DistributedResult(episodes, summary, run_dir, metrics)
