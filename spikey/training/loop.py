"""The local training loop: episodes of (network, game) with metrics and a run folder.

``B = network.batch_size`` members play ``B`` copies of the game in
lockstep (a gymnasium vector env). An episode ends for a member when its
game terminates or truncates, or after ``max_ticks``; the member then stops
learning (``network.plastic``) until every member has ended, and all games
are reset for the next episode.

Seeds. ``training.seed`` is the run seed ``s``. Member ``b``'s network is
seeded ``s + b`` (``network.network.seed = s``; ``network.member_seeds``
overrides the member seeds when given) and member ``b``'s game in episode
``e`` with ``episode_seed(s + b, e)`` for training and
``episode_seed(s + b, e, EVAL_STREAM)`` for evaluation, two disjoint streams:
no evaluation seed is ever played in training. So batch member ``b`` plays
exactly what a solo run of seed ``s + b`` plays, and an episode can be
resumed from a checkpoint exactly. ``network.network.seed`` may be left out
or set equal to ``training.seed``; a different value is refused.

A run folder holds::

    config.json                the complete experiment config
    metrics/episodes.csv       one row per (phase, episode, member), appended after the
                               first episode, then at most FLUSH_SECONDS apart and at checkpoints
    metrics/ticks.csv          one row per (phase, episode, tick, member) if record_ticks,
                               streamed in chunks (as episodes.csv, or CHUNK_ROWS rows)
    checkpoints/episode_XXXXXX.npz  network saves (spikey.snn.io format)
    checkpoints/final.npz      the network after evaluation
    checkpoints/latest.json    the last complete checkpoint (the commit point)
    summary.json               final figures (once the run has finished)

``latest.json`` is written last and records the byte length of both CSV
files at that checkpoint; a resumed run cuts them back to it, so after a
crash at any point resuming gives files equal to an uninterrupted run's
(up to the ``wall_time`` columns). A lock file ``.<folder>.spikey-lock``
next to the folder (holding the writer's pid and host) keeps two runs from
writing one folder at once.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import pandas as pd

from spikey.core.params import ConfigError
from spikey.core.tempfiles import make_temp, pid_alive
from spikey.training.config import check_config, load_config, seed_network

EVAL_STREAM = 1_000_003  # separates evaluation game seeds from training ones
CHUNK_ROWS = 20_000  # tick rows buffered in memory before they are appended to ticks.csv
FLUSH_SECONDS = 1.0  # metrics rows wait at most this long after an episode before they are appended
SPIKE_BUFFER_BYTES = 16 * 2**20  # output spikes of waiting tick rows kept at most (bytes)
TICKS_IN_RESULT = 64 * 2**20  # RunResult.ticks is read back from ticks.csv up to this size (bytes)
RUN_FILES = ("config.json", "summary.json", "metrics", "checkpoints")  # what a run writes
RAY_RUN_FILE = "spikey_run.json"  # marks a Ray run's folder (spikey.training.distributed)


class RunFolderError(FileExistsError):
    """A run folder holds another run, or another process is writing it."""


@dataclass
class RunResult:
    """What :func:`train` returns.

    ``ticks`` holds the per-tick rows: read back from ``metrics/ticks.csv``
    when the run has a folder and that file is at most :data:`TICKS_IN_RESULT`
    bytes (else None: read the file in chunks), kept in memory when it has
    no folder, None without ``record_ticks``.
    """

    network: object
    episodes: pd.DataFrame
    ticks: pd.DataFrame | None
    summary: dict
    run_dir: str | None = None
    config: dict = field(default_factory=dict)


def episode_seed(member_seed: int, episode: int, stream: int = 0) -> int:
    """Game seed of one member's episode: a function of its own seed only.

    Parameters
    ----------
    member_seed : int
        The member's seed (``training.seed + b``).
    episode : int
        Episode index within its phase.
    stream : int
        0 for training, :data:`EVAL_STREAM` for evaluation (disjoint streams).

    Returns
    -------
    int
    """
    return int(np.random.SeedSequence([member_seed, stream, episode]).generate_state(1)[0])


def seeded_config(config) -> dict:
    """A copy of an experiment config whose network is seeded by the run seed.

    See :func:`spikey.training.config.seed_network` (which
    :func:`~spikey.training.config.check_config` applies too).

    Parameters
    ----------
    config : dict or path
        Experiment config.

    Returns
    -------
    dict
    """
    return seed_network(load_config(config))


def make_games(game: dict, batch_size: int):
    """A gymnasium vector env of ``batch_size`` copies of the configured game.

    Parameters
    ----------
    game : dict
        The ``game`` section (``id``, ``kwargs``).
    batch_size : int
        Members.

    Returns
    -------
    gymnasium.vector.VectorEnv
    """
    import spikey.games  # noqa: F401

    # Spikey's own games are natively batched (one array step for all members);
    # other environments run as B copies, seeded like solo runs.
    mode = None if game["id"].startswith("spikey/") else "sync"
    return gym.make_vec(game["id"], num_envs=batch_size, vectorization_mode=mode, **game["kwargs"])


def _atomic_write(path: str, write) -> None:
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = make_temp(folder, ".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            write(handle)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: str, data) -> None:
    """Write ``data`` as indented JSON to ``path``, atomically (numpy values become plain).

    Parameters
    ----------
    path : str
        Target file.
    data : object
        JSON-able data.
    """
    _atomic_write(path, lambda h: json.dump(data, h, indent=2, default=_plain))


def write_csv(path: str, frame: pd.DataFrame) -> None:
    """Write ``frame`` to ``path`` as CSV without its index, atomically.

    Parameters
    ----------
    path : str
        Target file.
    frame : pandas.DataFrame
        The rows.
    """
    _atomic_write(path, lambda h: frame.to_csv(h, index=False))


def append_csv(path: str, frame: pd.DataFrame) -> None:
    """Append ``frame``'s rows to the CSV ``path`` (with the header when it is new or empty).

    Not atomic: a crash may leave part of a row; :func:`train` cuts the file
    back to the length ``latest.json`` records when it resumes.

    Parameters
    ----------
    path : str
        Target file.
    frame : pandas.DataFrame
        The rows.
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    header = not os.path.exists(path) or os.path.getsize(path) == 0
    with open(path, "a", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False, header=header)


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


_CSV_SPECIAL = (",", '"', "\r", "\n")


def _csv_cells(values: np.ndarray):
    """One column's CSV cells as pandas' ``to_csv`` writes them, or None where this writer
    does not know pandas' spelling (NaN, other dtypes, strings that need quotes)."""
    kind = values.dtype.kind
    if kind == "f":
        if values.dtype not in (np.float32, np.float64) or np.isnan(values).any():
            return None
        return values.astype(str).tolist()  # numpy's shortest round-trip repr, as pandas
    if kind in "iub":
        return values.astype(str).tolist()
    if kind in "OU":
        distinct = set(values.tolist())
        if all(isinstance(v, str) and v and not any(c in v for c in _CSV_SPECIAL)
               for v in distinct):
            return values.tolist()
    return None


class _Columns:
    """Rows held as equally long numpy columns: what :class:`_Table` appends to a CSV.

    ``to_csv`` writes the bytes ``pandas.DataFrame(columns).to_csv(...)`` writes, without
    building the frame (a DataFrame and its ``to_csv`` cost ~1 ms per call: more than the
    rows of an XOR episode); it hands the rows to pandas where its spelling is not known
    (NaN, one column, names or strings that need quotes, other dtypes).
    """

    def __init__(self, columns: dict):
        self.columns = columns

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame."""
        return pd.DataFrame(self.columns)

    def to_csv(self, path_or_buf=None, index: bool = False, header: bool = True):
        """As ``DataFrame.to_csv(path_or_buf, index=False, header=header)``."""
        text = self._text(header) if not index else None
        if text is None:
            return self.frame().to_csv(path_or_buf, index=index, header=header)
        if path_or_buf is None:
            return text
        path_or_buf.write(text)
        return None

    def _text(self, header: bool):
        names = list(self.columns)
        if len(names) < 2 or not all(isinstance(n, str) and n and not any(
                c in n for c in _CSV_SPECIAL) for n in names):
            return None
        cells = []
        for values in self.columns.values():
            column = _csv_cells(np.asarray(values))
            if column is None:
                return None
            cells.append(column)
        end = os.linesep
        lines = [",".join(row) for row in zip(*cells)]
        if header:
            lines.insert(0, ",".join(names))
        return end.join(lines) + end if lines else ""


def _rate_hz(counts, network) -> np.ndarray:
    """Output spike counts of ticks as the output neurons' mean rate (Hz)."""
    return counts * 1000.0 / (network.processing_steps * network.dt * network.n_outputs)


class _Table:
    """One metrics table: rows buffered as columns, appended to its CSV in chunks (or kept
    in memory as compact chunks when there is no file)."""

    def __init__(self, path: str | None):
        self.path = path
        self.columns = {}
        self.buffered = 0
        self.kept = []
        self.flushed_at = None  # time.monotonic() of the last flush_due that wrote
        self.writer = None  # a _Checkpoints whose thread appends rows taken from this table

    def flush_due(self) -> None:
        """Flush after an episode: the first time, then once :data:`FLUSH_SECONDS` have passed
        since the last (a checkpoint and the run's end flush too). Appending each episode's few
        rows separately cost more than the rows (~0.1-0.2 ms per file and episode); the files
        end the same, byte for byte."""
        now = time.monotonic()
        if self.flushed_at is None or now - self.flushed_at >= FLUSH_SECONDS:
            self.flushed_at = now
            self.flush()

    def add(self, columns: dict) -> None:
        columns = {name: np.asarray(values) for name, values in columns.items()}
        n = next(len(v) for v in columns.values() if v.ndim)
        for name, values in columns.items():
            self.columns.setdefault(name, []).append(
                np.full(n, values, dtype=object if values.dtype.kind in "US" else values.dtype)
                if values.ndim == 0 else values)
        self.buffered += n
        if self.buffered >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.writer is not None:  # a checkpoint thread appends earlier rows: they go first
            writer, self.writer = self.writer, None
            writer.wait()
        rows = self.take()
        if rows is None:
            return
        if self.path is None:
            self.kept.append(rows)
        else:
            append_csv(self.path, rows)

    def take(self):
        """The waiting rows as one :class:`_Columns` (None when there are none), taken out of
        the table: the caller appends them (a checkpoint's thread, before any later flush,
        which waits for it: set :attr:`writer`)."""
        if not self.buffered:
            return None
        rows = _Columns({k: np.concatenate(v) for k, v in self.columns.items()})
        self.columns, self.buffered = {}, 0
        return rows

    def file_size(self) -> int:
        """The file's length in bytes (0 without a file), without a flush."""
        if self.path is None or not os.path.exists(self.path):
            return 0
        return os.path.getsize(self.path)

    def size(self) -> int:
        """Flush and return the file's length in bytes (0 without a file)."""
        self.flush()
        if self.path is None or not os.path.exists(self.path):
            return 0
        return os.path.getsize(self.path)

    def fsync(self) -> None:
        """Force the file's bytes to disk."""
        if self.path is None or not os.path.exists(self.path):
            return
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def sync(self) -> int:
        """Flush, force to disk, and return the file's length in bytes."""
        size = self.size()
        self.fsync()
        return size

    def frame(self, limit: int | None = None):
        self.flush()
        if self.path is None:
            return pd.concat([rows.frame() for rows in self.kept], ignore_index=True) \
                if self.kept else None
        if not os.path.exists(self.path) or (limit is not None
                                             and os.path.getsize(self.path) > limit):
            return None
        return pd.read_csv(self.path)


def play_episode(network, games, seeds, max_ticks, phase, episode, record_ticks, ticks,
                 adapter=None, state_check=None):
    """Play one lockstep episode (see :func:`spikey.games.run.run_episode`).

    Parameters
    ----------
    network : spikey.Network
        The members.
    games : gymnasium.vector.VectorEnv
        Their games.
    seeds : sequence of int
        Each member's game seed.
    max_ticks : int
        Cap on ticks.
    phase : str
        ``"train"`` or ``"eval"`` (for the tick rows).
    episode : int
        Episode index (for the tick rows).
    record_ticks : bool
        Record one row per tick and active member.
    ticks : object
        Where tick rows go: anything with ``add(columns: dict)``, or a list
        (a DataFrame per tick is appended).
    adapter : EnvAdapter, optional
        Passed on to ``run_episode`` (default: a new ``EnvAdapter(games)``).
    state_check : spikey.snn.health.StateCheck, optional
        Passed on to ``run_episode`` (default: a new one).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Per-member returns and lengths.
    """
    from spikey.games.run import run_episode

    record = _TickRows(network, phase, episode, ticks, max_ticks) if record_ticks else None
    result = run_episode(network, games, adapter, seeds=[int(s) for s in seeds],
                         max_steps=max_ticks, reset_network=False, on_tick=record,
                         state_check=state_check)
    if record is not None:
        record.emit()
    return result.returns, result.lengths


class _TickRows:
    """The tick rows of one episode: per tick, copies of the ``(B,)`` arrays and of the output
    neurons' spikes into buffers allocated once (the spike counts are summed for all ticks
    at once); the rows are built by :meth:`emit` after the episode, or whenever the buffers
    hold :data:`CHUNK_ROWS` rows or :data:`SPIKE_BUFFER_BYTES` of spikes."""

    def __init__(self, network, phase, episode, ticks, max_ticks):
        B = network.batch_size
        self.network, self.phase, self.episode, self.ticks, self.B = (network, phase, episode,
                                                                      ticks, B)
        self.first_output = network.n_neurons - network.n_outputs
        outputs = network.tick_spikes[:, :, self.first_output:]
        capacity = max(1, min(CHUNK_ROWS // B, SPIKE_BUFFER_BYTES // max(outputs.nbytes, 1)))
        if max_ticks is not None:
            capacity = max(1, min(capacity, int(max_ticks)))
        self.capacity, self.n = capacity, 0
        self.tick = np.zeros(capacity, dtype=np.int64)
        self.reward = np.zeros((capacity, B), dtype=np.float64)
        self.spikes = np.zeros((capacity,) + outputs.shape, dtype=outputs.dtype)
        self.source, self.outputs = network.tick_spikes, outputs
        self.action = None  # allocated with the first action's dtype
        self.shape = (B,)
        self.actives = []  # (first row, active flags): the driver's arrays, by reference
        self.last_active = None

    def __call__(self, tick, active, action, reward):
        self.tick_row(tick, active, action, reward)

    def tick_row(self, tick, active, action, reward):
        """Keep one tick's row (what ``__call__`` does; :func:`spikey.games.run.run_episode`
        calls this directly, positionally). ``active`` is kept by reference: the episode
        driver hands a new array whenever the members' activity changes, never a changed one."""
        i = self.n
        if (type(action) is not np.ndarray or action.shape != self.shape
                or self.action is None or action.dtype != self.action.dtype
                or self.network.tick_spikes is not self.source):
            i = self._prepare(np.asarray(action))
            action = np.asarray(action)
            if action.shape != self.shape:
                action = action.reshape(self.B, -1)[:, 0]
        self.tick[i] = tick
        if active is not self.last_active:  # from row i on (the driver's array: never changed)
            self.actives.append((i, active))
            self.last_active = active
        self.action[i] = action
        self.reward[i] = reward
        self.spikes[i] = self.outputs
        self.n = i = i + 1
        if i == self.capacity:
            self.emit()

    def _prepare(self, action) -> int:
        # a first action, one of another dtype or shape, or a replaced spike array: the buffers
        # (re)allocated, the rows so far handed on first
        B, i = self.B, self.n
        if action.shape != self.shape:
            action = action.reshape(B, -1)[:, 0]
        if self.action is None or action.dtype != self.action.dtype:
            if i:  # a new dtype (never seen in practice): the rows so far go as they are
                self.emit()
                i = 0
            self.action = np.zeros((self.capacity, B), dtype=action.dtype)
        if self.network.tick_spikes is not self.source:  # the network replaced its array
            if i:
                self.emit()
                i = 0
            kept = self.action.dtype
            self.__init__(self.network, self.phase, self.episode, self.ticks, self.capacity)
            self.action = np.zeros((self.capacity, B), dtype=kept)
        return i

    def emit(self):
        """Hand the waiting ticks' rows on in one add: tick after tick, active members in order."""
        n = self.n
        if not n:
            return
        self.n = 0
        B, changes = self.B, self.actives
        self.actives, self.last_active = [], None  # the next rows start afresh
        rates = _rate_hz(self.spikes[:n].sum(axis=(2, 3)), self.network)
        if len(changes) == 1 and changes[0][1].all():  # every member played every tick
            columns = {  # what the masks below select, row after row
                "phase": self.phase, "episode": self.episode,
                "tick": np.repeat(self.tick[:n], B), "member": np.tile(np.arange(B), n),
                "action": self.action[:n].flatten(), "reward": self.reward[:n].flatten(),
                "output_rate": rates.reshape(-1),
            }
            self._hand_on(columns)
            return
        active = np.empty((n, B), dtype=bool)
        for k, (row, flags) in enumerate(changes):
            active[row:changes[k + 1][0] if k + 1 < len(changes) else n] = flags
        columns = {
            "phase": self.phase, "episode": self.episode,
            "tick": np.repeat(self.tick[:n], active.sum(axis=1)),
            "member": np.broadcast_to(np.arange(self.B), active.shape)[active],
            "action": self.action[:n][active],
            "reward": self.reward[:n][active],
            "output_rate": rates[active],
        }
        self._hand_on(columns)

    def _hand_on(self, columns):
        if isinstance(self.ticks, list):
            self.ticks.append(pd.DataFrame(columns))
        else:
            self.ticks.add(columns)


class _Lock:
    """``.<folder>.spikey-lock`` next to a run folder: created with O_EXCL, holding
    ``pid@host``; a lock whose process (same host) is gone is stale and taken over."""

    def __init__(self, run_dir: str):
        parent, name = os.path.split(run_dir.rstrip(os.sep))
        self.path = os.path.join(parent, f".{name}.spikey-lock")
        self.run_dir = run_dir
        self.held = False

    def acquire(self) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        owner = f"{os.getpid()}@{socket.gethostname()}"
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._stale():
                    try:
                        os.unlink(self.path)
                    except FileNotFoundError:
                        pass
                    continue
                raise RunFolderError(
                    f"run folder {self.run_dir!r} is being written by another run (process "
                    f"{self._owner() or '?'}, lock file {self.path!r}); wait for it to end, or "
                    "delete the lock file if that process is gone") from None
            with os.fdopen(fd, "w") as handle:
                handle.write(owner)
            self.held = True
            return
        raise RunFolderError(f"could not take the lock {self.path!r} of run folder "
                             f"{self.run_dir!r}; another run keeps taking it")

    def _owner(self) -> str:
        try:
            with open(self.path, encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError:
            return ""

    def _stale(self) -> bool:
        owner = self._owner()
        pid, _, host = owner.partition("@")
        if not pid.isdigit():
            # being written this instant, or a writer killed between create and write
            try:
                return time.time() - os.stat(self.path).st_mtime > 10
            except OSError:
                return True
        return host == socket.gethostname() and not pid_alive(int(pid))

    def release(self) -> None:
        if self.held:
            self.held = False
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass


def _differences(old, new, path: str = "") -> list:
    """Dotted paths whose values differ between two configs."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in old or key not in new:
                out.append(sub)
            else:
                out += _differences(old[key], new[key], sub)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in _differences(a, b, f"{path}.{i}")]
    return [] if old == new else [path]


def _plain_config(config: dict) -> dict:
    return json.loads(json.dumps(config, default=_plain))


def _prepare_folder(run_dir: str, config: dict, resume: bool, overwrite: bool) -> dict | None:
    """Check the folder against the flags; return the latest checkpoint's record to resume
    from (None: start afresh, after clearing what an earlier attempt left)."""
    config_path = os.path.join(run_dir, "config.json")
    if os.path.exists(os.path.join(run_dir, RAY_RUN_FILE)):
        if not overwrite:
            raise RunFolderError(
                f"run folder {run_dir!r} holds a Ray run ({RAY_RUN_FILE}; `spikey train` "
                "without --local); a local run of the same config needs its own folder: "
                "choose another name (--name) or storage (--storage), or pass overwrite=True "
                "(--overwrite) to replace the Ray run")
        for entry in os.listdir(run_dir):  # overwrite: the whole Ray run goes
            if not entry.startswith("."):
                target = os.path.join(run_dir, entry)
                shutil.rmtree(target) if os.path.isdir(target) else os.unlink(target)
    present = [name for name in RUN_FILES if os.path.exists(os.path.join(run_dir, name))]
    if present and not resume and not overwrite:
        raise RunFolderError(
            f"run folder {run_dir!r} already holds a run ({', '.join(present)}); pass "
            "resume=True to continue it (same config) or overwrite=True to replace it "
            "(command line: --resume / --overwrite)")
    state = None
    if resume and os.path.exists(config_path):
        with open(config_path, encoding="utf-8") as handle:
            old = json.load(handle)
        differ = _differences(old, _plain_config(config))
        if differ:
            shown = ", ".join(f"{p} ({_show(old, p)} -> {_show(config, p)})" for p in differ[:8])
            more = f" and {len(differ) - 8} more" if len(differ) > 8 else ""
            raise ConfigError(
                f"cannot resume run folder {run_dir!r} with a different config: {shown}{more}; "
                "resume with the folder's config.json, or pass overwrite=True to start over")
        latest = os.path.join(run_dir, "checkpoints", "latest.json")
        if os.path.exists(latest):
            with open(latest, encoding="utf-8") as handle:
                state = json.load(handle)
    elif resume and present:
        raise RunFolderError(f"run folder {run_dir!r} holds {', '.join(present)} but no "
                             "config.json, so it cannot be resumed; pass overwrite=True to "
                             "start over")
    if state is None:
        for name in RUN_FILES:  # overwrite, or a resume with no checkpoint yet: start afresh
            target = os.path.join(run_dir, name)
            if os.path.isdir(target):
                shutil.rmtree(target)
            elif os.path.exists(target):
                os.unlink(target)
        if os.path.isdir(os.path.join(run_dir, "plots")) and overwrite:
            shutil.rmtree(os.path.join(run_dir, "plots"))
    return state


def _show(config: dict, path: str):
    node = config
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return "missing"
    return repr(node)


def _cut_back(run_dir: str, state: dict, record_ticks: bool) -> None:
    """Cut the metrics files back to the rows of the checkpoint ``state`` records."""
    metrics = os.path.join(run_dir, "metrics")
    for name, key in (("episodes.csv", "episodes_bytes"), ("ticks.csv", "ticks_bytes")):
        path = os.path.join(metrics, name)
        if key in state:
            size = state[key]
            have = os.path.getsize(path) if os.path.exists(path) else 0
            if have < size:
                raise RunFolderError(f"{path} holds {have} bytes but the checkpoint recorded "
                                     f"{size}; the run folder was changed, cannot resume")
            if os.path.exists(path):
                os.truncate(path, size)
        elif os.path.exists(path):
            # a checkpoint from before byte lengths were recorded: keep its training rows
            rows = pd.read_csv(path)
            keep = rows[(rows["phase"] == "train") & (rows["episode"] < state["episodes_done"])]
            write_csv(path, keep)


def train(config, run_dir: str | None = None, resume: bool = False, callbacks=(),
          progress: bool | None = None, network=None, stop_after: int | None = None,
          reporters=(), overwrite: bool = False) -> RunResult:
    """Train a network on a game as the experiment config says.

    Parameters
    ----------
    config : dict or path
        Experiment config (see :mod:`spikey.training.config`); ``training.seed``
        seeds everything (see the module docstring).
    run_dir : str, optional
        Folder for the run; nothing is written when None. A folder that holds
        a run is refused unless ``resume`` or ``overwrite`` is given, and a
        folder another live process is writing is always refused.
    resume : bool
        Continue the run in ``run_dir`` from its latest checkpoint (its
        episodes are not played again, nor counted twice); the config must
        equal the folder's ``config.json``. A finished run is returned as it
        is; a folder without a run starts one.
    callbacks : sequence of callables
        Each is called ``callback(network=..., episode=..., rows=DataFrame)``
        after every training episode, before its checkpoint is written.
    progress : bool, optional
        Show a progress bar; default: only on a terminal.
    network : Network, optional
        Start from this network instead of building one from the config.
    stop_after : int, optional
        Stop (as if interrupted) after this many episodes of this call; for tests.
    reporters : sequence of callables
        Like callbacks, with ``run_dir=...`` too, called after the checkpoint.
    overwrite : bool
        Replace the run in ``run_dir`` (its config, metrics, checkpoints,
        summary and plots are deleted first).

    Returns
    -------
    RunResult

    Raises
    ------
    RunFolderError
        ``run_dir`` holds another run (without ``resume``/``overwrite``) or is
        locked by another live run.
    ConfigError
        A bad config, a ``network.network.seed`` other than ``training.seed``,
        or a resume with a config other than the folder's (naming the keys).
    """
    if resume and overwrite:
        raise ValueError("train: resume=True and overwrite=True exclude each other; pass one")
    config = check_config(seeded_config(config))
    if run_dir is None:
        return _train(config, None, None, callbacks, progress, network, stop_after, reporters)
    run_dir = os.path.abspath(os.fspath(run_dir))
    lock = _Lock(run_dir)
    lock.acquire()
    try:
        state = _prepare_folder(run_dir, config, resume, overwrite)
        return _train(config, run_dir, state, callbacks, progress, network, stop_after, reporters)
    finally:
        lock.release()


def _train(config, run_dir, state, callbacks, progress, network, stop_after, reporters):
    from tqdm.auto import tqdm

    from spikey.snn.network import Network

    training = config["training"]
    start_episode = 0
    metrics = None if run_dir is None else os.path.join(run_dir, "metrics")
    episode_table = _Table(None if metrics is None else os.path.join(metrics, "episodes.csv"))
    tick_table = _Table(None if metrics is None else os.path.join(metrics, "ticks.csv"))
    record_ticks = training["record_ticks"]
    started = time.perf_counter()
    if state is not None:
        _cut_back(run_dir, state, record_ticks)
        network = Network.load(os.path.join(run_dir, "checkpoints", state["network"]))
        start_episode = state["episodes_done"]
        if state.get("finished"):
            summary_path = os.path.join(run_dir, "summary.json")
            with open(summary_path, encoding="utf-8") as handle:
                summary = json.load(handle)
            return RunResult(network, episode_table.frame(),
                             tick_table.frame(TICKS_IN_RESULT) if record_ticks else None,
                             summary, run_dir, config)
    else:
        if run_dir is not None:
            write_json(os.path.join(run_dir, "config.json"), config)
        if network is None:
            network = Network.from_config(config["network"])
    seeds = list(network.seeds)
    games = make_games(config["game"], network.batch_size)
    # made once for the run, not per episode (~0.1 ms each): the adapter, and the finite
    # check, which confirms every tick that each array it keeps is still its part's
    from spikey.games.adapters import EnvAdapter
    from spikey.snn.health import StateCheck

    kept = {"adapter": EnvAdapter(games), "state_check": StateCheck(network)}
    episodes = training["episodes"]
    bar = tqdm(range(start_episode, episodes), desc="train", unit="episode",
               disable=(not progress) if progress is not None else None)
    played, saved_at = 0, start_episode if state is not None else None
    writer = _Checkpoints(run_dir) if run_dir is not None else None
    try:
        for episode in bar:
            network.train()
            t0 = time.perf_counter()
            returns, lengths = play_episode(network, games, [episode_seed(s, episode) for s in seeds],
                                            training["max_ticks"], "train", episode, record_ticks,
                                            tick_table, **kept)
            columns = _episode_columns("train", episode, returns, lengths, network,
                                       time.perf_counter() - t0)
            episode_table.add(columns)
            episode_table.flush_due()
            tick_table.flush_due()
            if not bar.disable:
                bar.set_postfix(mean_return=float(returns.mean()))
            rows = pd.DataFrame(columns) if callbacks or reporters else None
            for callback in callbacks:
                callback(network=network, episode=episode, rows=rows)
            played += 1
            every = training["checkpoint_every"]
            if run_dir is not None and every and (episode + 1) % every == 0:
                _checkpoint(run_dir, network, episode + 1, episode_table, tick_table,
                            writer=writer)
                saved_at = episode + 1
            if reporters and writer is not None:
                writer.wait()  # reporters see the checkpoint complete (Ray copies the folder)
            for reporter in reporters:
                reporter(network=network, episode=episode, rows=rows, run_dir=run_dir)
            if stop_after is not None and played >= stop_after:
                break
        else:
            for episode in range(training["eval_episodes"]):
                network.eval()
                t0 = time.perf_counter()
                returns, lengths = play_episode(
                    network, games, [episode_seed(s, episode, EVAL_STREAM) for s in seeds],
                    training["max_ticks"], "eval", episode, record_ticks, tick_table, **kept)
                episode_table.add(_episode_columns("eval", episode, returns, lengths, network,
                                                   time.perf_counter() - t0))
                episode_table.flush_due()
                tick_table.flush_due()
            network.train()
            done = start_episode + played
            if run_dir is None:
                episodes_df = episode_table.frame()
                return RunResult(network, episodes_df, tick_table.frame() if record_ticks else None,
                                 summarize(episodes_df, time.perf_counter() - started), None,
                                 config)
            episodes_df = episode_table.frame()
            summary = summarize(episodes_df, time.perf_counter() - started)
            _checkpoint(run_dir, network, done, episode_table, tick_table, summary=summary,
                        writer=writer)
            return RunResult(network, episodes_df,
                             tick_table.frame(TICKS_IN_RESULT) if record_ticks else None,
                             summary, run_dir, config)
    except BaseException:
        if writer is not None:  # the checkpoint being written completes; this error wins
            try:
                writer.wait()
            except BaseException:  # noqa: BLE001
                pass
        for table in (episode_table, tick_table):  # the rows of the episodes played
            try:
                table.flush()
            except BaseException:  # noqa: BLE001
                pass
        raise
    finally:
        games.close()
    # interrupted (stop_after): keep a checkpoint of where it got to
    done = start_episode + played
    if writer is not None:
        writer.wait()
    if run_dir is not None and saved_at != done:
        _checkpoint(run_dir, network, done, episode_table, tick_table, writer=writer)
        writer.wait()
    episodes_df = episode_table.frame()
    return RunResult(network, episodes_df,
                     tick_table.frame(TICKS_IN_RESULT) if record_ticks else None,
                     summarize(episodes_df, time.perf_counter() - started), run_dir, config)


class _Checkpoints:
    """Writes a run's checkpoints, each but the last in a background thread.

    At a checkpoint the main thread takes the waiting metrics rows out of their
    tables and a copy of the network (``Network.copy``, ~0.4 ms for the XOR example);
    a thread then appends the rows (their CSV text: ~0.4 ms for an XOR checkpoint's),
    notes both CSV files' byte lengths, forces the files to disk, saves the copy, writes
    the summary (the final checkpoint) and last ``latest.json``, the commit point, while
    the next episode plays (a later flush of a table waits for the thread first, so the
    rows stay in order; the final checkpoint does all of it in place) (the three
    fsyncs of a checkpoint cost ~12 ms on the development machine's disk,
    about a quarter of an XOR episode). :meth:`wait` joins the thread and
    raises what it raised; the loop waits before the next checkpoint, before
    reporters run (Ray's copies the folder), and before it returns or raises, so a
    checkpoint is complete whenever the loop hands over. A crash while the thread
    writes resumes from the previous checkpoint, as a crash inside a synchronous
    checkpoint did. A network that cannot be copied is saved in the main thread.
    """

    def __init__(self, run_dir: str):
        self.run_dir = run_dir
        self.thread = None
        self.error = None

    def write(self, network, episodes_done, episode_table, tick_table, summary=None,
              wait: bool = False) -> None:
        """Start writing a checkpoint of ``network`` after ``episodes_done`` episodes.

        Parameters
        ----------
        network : spikey.Network
            The network (a copy is saved).
        episodes_done : int
            Training episodes it has played.
        episode_table, tick_table : _Table
            The metrics tables (their waiting rows are appended first).
        summary : dict, optional
            The run's summary: the final checkpoint.
        wait : bool
            Return only once the checkpoint is complete.
        """
        self.wait()
        snapshot = network
        if not wait:
            try:
                snapshot = network.copy()
            except Exception:  # noqa: BLE001 - not copyable: written here and now
                wait = True
        tables = (episode_table, tick_table)
        if wait:
            record = {"episodes_bytes": episode_table.size(), "ticks_bytes": tick_table.size()}
            _commit(self.run_dir, snapshot, episodes_done, tables, record, summary)
            return
        # the waiting rows go with the thread, which writes their text and appends them (the
        # text of an XOR checkpoint's ~400 tick rows: ~0.4 ms) before it notes the lengths;
        # a later flush of either table waits for the thread first, so rows stay in order
        pending = [table.take() for table in tables]

        def work():
            try:
                for table, rows in zip(tables, pending):
                    if rows is not None:
                        append_csv(table.path, rows)
                record = {"episodes_bytes": episode_table.file_size(),
                          "ticks_bytes": tick_table.file_size()}
                _commit(self.run_dir, snapshot, episodes_done, tables, record, summary)
            except BaseException as error:  # noqa: BLE001 - raised again by wait()
                self.error = error
        self.thread = threading.Thread(target=work, name="spikey-checkpoint", daemon=True)
        for table in tables:
            table.writer = self
        self.thread.start()

    def wait(self) -> None:
        """Wait for the checkpoint being written; raise what writing it raised."""
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        if self.error is not None:
            error, self.error = self.error, None
            raise error


def _checkpoint(run_dir, network, episodes_done, episode_table, tick_table, summary=None,
                writer=None):
    """Metrics on disk, then the network, then (finished) the summary, then ``latest.json``,
    the commit point: a crash before it resumes from the previous checkpoint. With a
    :class:`_Checkpoints` ``writer`` the disk work goes to its thread (the final one waits)."""
    writer = _Checkpoints(run_dir) if writer is None else writer
    writer.write(network, episodes_done, episode_table, tick_table, summary=summary,
                 wait=summary is not None)


def _commit(run_dir, network, episodes_done, tables, record, summary):
    for table in tables:
        table.fsync()
    folder = os.path.join(run_dir, "checkpoints")
    os.makedirs(folder, exist_ok=True)
    name = "final.npz" if summary is not None else f"episode_{episodes_done:06d}.npz"
    network.save(os.path.join(folder, name))
    if summary is not None:
        write_json(os.path.join(run_dir, "summary.json"), summary)
    write_json(os.path.join(folder, "latest.json"),
               {"network": name, "episodes_done": episodes_done, "finished": summary is not None,
                **record})


def _episode_columns(phase, episode, returns, lengths, network, seconds) -> dict:
    """One episode's rows (one per member) as columns: :class:`_Table` takes them as they
    are; ``pandas.DataFrame(columns)`` is the ``rows`` callbacks and reporters get."""
    weights = network.parts["weights"]
    B = network.batch_size
    present = weights.mask.reshape(B, -1)
    values = weights.matrix.reshape(B, -1)
    count = np.maximum(present.sum(axis=1), 1)
    mean = (values * present).sum(axis=1) / count
    std = np.sqrt(np.maximum(((values - mean[:, None]) ** 2 * present).sum(axis=1) / count, 0))
    return {
        "phase": phase, "episode": episode, "member": np.arange(B),
        "seed": np.asarray(list(network.seeds), dtype=np.int64), "return": returns,
        "length": lengths, "mean_reward": returns / np.maximum(lengths, 1), "weight_mean": mean,
        "weight_std": std, "wall_time": seconds,
    }


#: Older summary keys and the keys that say what they hold (the old ones stay for readers).
SUMMARY_ALIASES = {"train_mean_return": "train_last_episode_mean_return",
                   "train_mean_reward": "train_last_episode_mean_reward"}


def member_summary(episodes: pd.DataFrame) -> pd.DataFrame:
    """Per-member final figures (index: member), the per-phase columns of :func:`summarize`.

    Parameters
    ----------
    episodes : pandas.DataFrame
        A run's episode rows (``metrics/episodes.csv``).

    Returns
    -------
    pandas.DataFrame
        ``train_last_episode_mean_return`` / ``_reward`` (the last training
        episode), ``eval_mean_return`` / ``eval_mean_reward`` (the mean over
        every evaluation episode), and the older names ``train_mean_return`` /
        ``train_mean_reward`` (equal to the ``train_last_episode_`` columns).
    """
    out = {}
    for phase in ("train", "eval"):
        rows = _final_rows(episodes, phase)
        if len(rows):
            by_member = rows.groupby("member")
            prefix = "train_last_episode" if phase == "train" else "eval"
            out[f"{prefix}_mean_return"] = by_member["return"].mean().astype(float)
            out[f"{prefix}_mean_reward"] = by_member["mean_reward"].mean().astype(float)
    for old, new in SUMMARY_ALIASES.items():
        if new in out:
            out[old] = out[new]
    return pd.DataFrame(out)


def _final_rows(episodes: pd.DataFrame, phase: str) -> pd.DataFrame:
    """Training: the last episode (where learning got to); evaluation: every episode."""
    rows = episodes[episodes["phase"] == phase]
    if phase == "train" and len(rows):
        rows = rows[rows["episode"] == rows["episode"].max()]
    return rows


def summarize(episodes: pd.DataFrame, seconds: float) -> dict:
    """Final figures of a run, each named for what it averages (over all members).

    Parameters
    ----------
    episodes : pandas.DataFrame
        The run's episode rows.
    seconds : float
        Wall time of the run.

    Returns
    -------
    dict
        ``train_episodes`` / ``eval_episodes`` (counts);
        ``train_last_episode_mean_return`` / ``_reward`` (the last training
        episode: where learning got to); ``train_all_episodes_mean_return``
        (every training episode: the run's mean); ``train_last100_mean_return``
        (the last 100 training episodes, or all if fewer);
        ``eval_mean_return`` / ``eval_mean_reward`` (every evaluation episode,
        plasticity frozen); ``eval_member_mean_return`` (each member's
        evaluation mean, one entry per seed); ``wall_time``. The older keys
        ``train_mean_return`` / ``train_mean_reward`` are kept for existing
        readers and equal the ``train_last_episode_`` ones
        (:data:`SUMMARY_ALIASES`).
    """
    out = {"wall_time": seconds}
    if episodes.empty:
        return out
    # masks over numpy columns and Series of single columns (a DataFrame row filter costs
    # ~0.7 ms); the means are pandas' over the same values in the same order
    phases = episodes["phase"].to_numpy()
    numbers = episodes["episode"].to_numpy()
    returns, rewards = episodes["return"], episodes["mean_reward"]
    masks = {}
    for phase in ("train", "eval"):
        mask = phases == phase
        masks[phase] = mask
        if mask.any():
            final = mask & (numbers == numbers[mask].max()) if phase == "train" else mask
            prefix = "train_last_episode" if phase == "train" else "eval"
            out[f"{phase}_episodes"] = int(pd.unique(numbers[mask]).size)
            out[f"{prefix}_mean_return"] = float(returns[final].mean())
            out[f"{prefix}_mean_reward"] = float(rewards[final].mean())
    train = masks["train"]
    if train.any():
        out["train_all_episodes_mean_return"] = float(returns[train].mean())
        last = train & (numbers > numbers[train].max() - 100)
        out["train_last100_mean_return"] = float(returns[last].mean())
    evaluation = masks["eval"]
    if evaluation.any():
        per_member = returns[evaluation].groupby(episodes["member"][evaluation]).mean()
        out["eval_member_mean_return"] = [float(v) for v in per_member.to_numpy()]
    for old, new in SUMMARY_ALIASES.items():
        if new in out:
            out[old] = out[new]
    return out
