"""A local ``spikey train`` on Ray: loopback only, and nothing left after ``kill -9``.

One ``spikey train`` (Ray path, 1 worker, a long run) is started as a
subprocess; once its worker reports, the listening sockets of every process
of its Ray (found by the run's private temp folder) are listed, then the
driver gets SIGKILL and every one of those processes must be gone, and the
folder removed, within a few seconds (Ray alone leaves its dashboard and
runtime-env agents for about a minute). Also: ``--resume``/``--overwrite``.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))

pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")

from spikey.training.ray_cleanup import (  # noqa: E402
    OWNER_FILE, PREFIX, kill_run, run_processes, temp_base)
from test_training import small_config  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOOPBACK = ("127.", "::1", "::ffff:127.")


def _ray_folder_of(pid):
    base = temp_base()
    for name in os.listdir(base):
        path = os.path.join(base, name)
        if name.startswith(PREFIX):
            try:
                with open(os.path.join(path, OWNER_FILE), encoding="utf-8") as handle:
                    if json.load(handle)["pid"] == pid:
                        return path
            except (OSError, ValueError, KeyError):
                continue
    return None


def _spikey(*args, **kwargs):
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("RAY_AUTH_MODE", None)  # Ray's default: token authentication
    return subprocess.Popen([sys.executable, "-m", "spikey.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)


@pytest.fixture(scope="module")
def running_train(tmp_path_factory):
    """A ``spikey train`` whose Ray worker has reported at least one episode."""
    tmp = tmp_path_factory.mktemp("secure")
    config = tmp / "long.json"
    config.write_text(json.dumps(small_config(batch_size=1, episodes=100_000)))
    proc = _spikey("train", str(config), "--workers", "1", "--storage", str(tmp / "runs"),
                   "--name", "long")
    folder, deadline = None, time.time() + 90
    run = tmp / "runs" / "long"
    while time.time() < deadline and proc.poll() is None:
        folder = folder or _ray_folder_of(proc.pid)
        if folder and run.is_dir() and any(n.startswith("checkpoint") for n in os.listdir(run)):
            break
        time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"spikey train did not report an episode: rc={proc.poll()} "
                    f"{proc.stderr.read().decode()[-2000:] if proc.poll() is not None else ''}")
    yield proc, folder
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    kill_run(folder, grace=1.0)


def test_local_ray_listens_on_loopback_only(running_train):
    proc, folder = running_train
    procs = [psutil.Process(proc.pid)] + run_processes(folder)
    names = {p.name() for p in procs}
    assert "raylet" in names and "gcs_server" in names, names
    listening, exposed = 0, []
    for p in procs:
        try:
            sockets = p.net_connections(kind="inet")
        except psutil.Error:
            continue
        for s in sockets:
            bound = s.status == psutil.CONN_LISTEN or (s.status == psutil.CONN_NONE and s.laddr)
            if not bound:
                continue
            listening += 1
            if not s.laddr.ip.startswith(LOOPBACK):
                exposed.append((p.name(), s.laddr.ip, s.laddr.port))
    assert listening >= 4  # GCS, raylet (2), driver, worker, agents
    assert exposed == [], f"Ray processes listen beyond loopback: {exposed}"
    assert oct(os.stat(folder).st_mode & 0o777) == "0o700"


def test_kill_9_leaves_no_ray_process_and_no_folder(running_train):
    proc, folder = running_train
    before = run_processes(folder)
    assert len(before) >= 5  # gcs, raylet, agents, worker(s), helpers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 15
    while time.time() < deadline and (run_processes(folder) or os.path.exists(folder)):
        time.sleep(0.5)
    left = [(p.pid, p.name()) for p in run_processes(folder)]
    assert left == [], f"alive 15 s after kill -9 of the driver: {left}"
    assert not os.path.exists(folder)


def test_storage_folder_holding_a_run_needs_resume_or_overwrite(tmp_path):
    from spikey.core.params import ConfigError
    from spikey.training.distributed import RUN_FILE, _prepare_run_folder
    from spikey.training.loop import RunFolderError

    folder = str(tmp_path / "name")
    first = {"config": small_config(), "num_workers": 1, "average_every": 0}
    _prepare_run_folder(folder, first, resume=False, overwrite=False)
    (tmp_path / "name" / "checkpoint_x").mkdir()
    with pytest.raises(RunFolderError, match=r"already holds a run; pass --resume .*--overwrite"):
        _prepare_run_folder(folder, first, resume=False, overwrite=False)
    other = {**first, "config": small_config(episodes=5)}
    with pytest.raises(ConfigError, match=r"different config \(differs at config.training.ep"):
        _prepare_run_folder(folder, other, resume=True, overwrite=False)
    with pytest.raises(ConfigError, match=r"differs at num_workers"):
        _prepare_run_folder(folder, {**first, "num_workers": 2}, resume=True, overwrite=False)
    _prepare_run_folder(folder, first, resume=True, overwrite=False)  # same config: accepted
    assert (tmp_path / "name" / "checkpoint_x").is_dir()
    _prepare_run_folder(folder, other, resume=False, overwrite=True)
    assert sorted(os.listdir(folder)) == [RUN_FILE]
    _prepare_run_folder(str(tmp_path / "fresh"), first, resume=True, overwrite=False)  # nothing
    assert sorted(os.listdir(tmp_path / "fresh")) == [RUN_FILE]  # to resume: starts afresh
    (tmp_path / "alien").mkdir()
    (tmp_path / "alien" / "notes.txt").write_text("x")
    with pytest.raises(RunFolderError, match=f"no readable {RUN_FILE}"):
        _prepare_run_folder(str(tmp_path / "alien"), first, resume=True, overwrite=False)
    with pytest.raises(ValueError, match="exclude each other"):
        _prepare_run_folder(folder, first, resume=True, overwrite=True)


def test_cli_refuses_a_used_run_folder_before_starting_ray(tmp_path):
    config = tmp_path / "xor.json"
    config.write_text(json.dumps(small_config(batch_size=1, episodes=1)))
    (tmp_path / "runs" / "xor").mkdir(parents=True)
    (tmp_path / "runs" / "xor" / "leftover.txt").write_text("x")
    proc = _spikey("train", str(config), "--storage", str(tmp_path / "runs"))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert f"run folder {tmp_path / 'runs' / 'xor'} already holds a run" in err.decode()
    assert _ray_folder_of(proc.pid) is None
    proc = _spikey("train", str(config), "--storage", str(tmp_path / "runs"), "--resume",
                   "--overwrite")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "exclude each other" in err.decode()


def test_cleanup_ends_the_processes_of_a_dead_drivers_folder_only(tmp_path):
    from spikey.cli import main
    from spikey.training.ray_cleanup import make_temp_dir, owner_alive, stale_runs

    mine = make_temp_dir()  # owned by this (live) process
    dead = make_temp_dir()
    ghost = subprocess.Popen([sys.executable, "-c", "pass"])
    ghost.wait()
    with open(os.path.join(dead, OWNER_FILE), "w", encoding="utf-8") as handle:
        json.dump({"pid": ghost.pid, "create_time": 0.0}, handle)
    # a leftover of the dead run (holds a file in its folder open) and a bystander
    code = "import sys, time; f = open(sys.argv[1], 'w'); time.sleep(60)"
    leftover = subprocess.Popen([sys.executable, "-c", code, os.path.join(dead, "r.log")])
    bystander = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "other.log")])
    try:
        deadline = time.time() + 10
        while time.time() < deadline and not run_processes(dead):
            time.sleep(0.1)
        assert [p.pid for p in run_processes(dead)] == [leftover.pid]
        assert owner_alive(mine) and not owner_alive(dead)
        assert dead in stale_runs() and mine not in stale_runs()
        assert main(["cleanup", dead]) == 0
        leftover.wait(timeout=10)  # ended long before its 60 s sleep (cleanup reaped it)
        assert not os.path.exists(dead)
        assert bystander.poll() is None
        assert main(["cleanup", str(tmp_path)]) == 2  # not a spikey Ray folder
    finally:
        for proc in (leftover, bystander):
            proc.kill()
            proc.wait()
        kill_run(mine)
        kill_run(dead)


def test_cli_local_run_folder_flags_reach_train(tmp_path, capsys):
    from spikey.cli import main

    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(small_config(batch_size=1, episodes=1)))
    args = ["train", str(config), "--local", "--storage", str(tmp_path / "runs")]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert main(args + ["--resume"]) == 0  # same config: the finished run is not replayed
    config.write_text(json.dumps(small_config(batch_size=1, episodes=2)))
    assert main(args + ["--resume"]) == 2
    assert "different config" in capsys.readouterr().err
    assert main(args + ["--overwrite"]) == 0
    summary = json.loads((tmp_path / "runs" / "tiny" / "summary.json").read_text())
    assert summary["train_episodes"] == 2  # the new config's run, not the old one
