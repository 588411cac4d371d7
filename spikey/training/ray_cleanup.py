"""Find and end the Ray processes of one local run, even after its driver was killed.

A local Ray started by :func:`spikey.training.distributed.init_ray` keeps its
sockets, logs and session files in a temp folder of its own
(``<tmp>/spikey-ray-XXXXXXXX``, mode 0700). Every process of that Ray holds a
file in it open or names it on its command line, so the folder identifies the
run's processes exactly; nothing else on the machine is touched.

Ray ends its head processes (GCS, raylet, workers) when the driver dies, even
by ``kill -9``, but its dashboard agent and runtime-env agent wait about a
minute for the dead GCS before they exit. So ``init_ray`` also starts a small
watchdog (``python -m spikey.training.ray_cleanup watch FOLDER PID``, in a
session of its own so Ctrl-C and a closed terminal do not reach it) that
blocks on a pipe from the driver; when the pipe closes (the driver exited,
cleanly or not) it terminates whatever still uses the folder and removes it.

If the watchdog itself was killed, ``spikey cleanup`` does the same for every
spikey Ray folder whose driver is gone (``spikey cleanup FOLDER`` for one).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PREFIX = "spikey-ray-"
OWNER_FILE = "spikey_owner.json"


def _psutil():
    try:
        import psutil
    except ImportError:  # Ray ships one; use it without importing ray (slow)
        import importlib.util

        spec = importlib.util.find_spec("ray")
        if spec is None or not spec.submodule_search_locations:
            raise
        sys.path.append(os.path.join(list(spec.submodule_search_locations)[0], "thirdparty_files"))
        import psutil
    return psutil


def temp_base() -> str:
    """The folder that holds the per-run Ray folders.

    The system temp folder, or ``/tmp`` when that is long: Ray's socket paths
    (``FOLDER/session_<date>_<pid>/sockets/plasma_store``) must stay under the
    107-character limit of a Unix socket path.

    Returns
    -------
    str
    """
    base = tempfile.gettempdir()
    if len(base) > 20 and os.path.isdir("/tmp") and os.access("/tmp", os.W_OK):
        base = "/tmp"
    return base


def make_temp_dir() -> str:
    """Create a fresh private (0700) folder for one local Ray and record its owner.

    Returns
    -------
    str
        The folder's absolute path.
    """
    folder = tempfile.mkdtemp(prefix=PREFIX, dir=temp_base())
    psutil = _psutil()
    me = psutil.Process()
    with open(os.path.join(folder, OWNER_FILE), "w", encoding="utf-8") as handle:
        json.dump({"pid": me.pid, "create_time": me.create_time()}, handle)
    return folder


def run_processes(folder: str, exclude=()) -> list:
    """The processes that name ``folder`` on their command line or hold a file in it open.

    Parameters
    ----------
    folder : str
        A run's Ray temp folder.
    exclude : iterable of int
        Process ids to leave out (this process is always left out).

    Returns
    -------
    list of psutil.Process
    """
    psutil = _psutil()
    folder = os.path.abspath(folder)
    inside = folder + os.sep
    skip = {os.getpid(), *exclude}
    found = []
    for proc in psutil.process_iter():
        if proc.pid in skip:
            continue
        try:
            cmdline = " ".join(proc.cmdline())
            if inside in cmdline or cmdline.endswith(folder) or f"{folder} " in cmdline:
                found.append(proc)
                continue
            if any(f.path.startswith(inside) for f in proc.open_files()):
                found.append(proc)
        except (psutil.Error, OSError):
            continue  # gone, a zombie, or another user's process
    return found


def kill_run(folder: str, exclude=(), grace: float = 3.0, remove: bool = True) -> int:
    """Terminate every process of the run in ``folder`` (SIGTERM, then SIGKILL) and remove it.

    Parameters
    ----------
    folder : str
        A run's Ray temp folder.
    exclude : iterable of int
        Process ids to spare (the driver, while it is still exiting).
    grace : float
        Seconds between SIGTERM and SIGKILL.
    remove : bool
        Delete the folder afterwards.

    Returns
    -------
    int
        How many processes were still running.
    """
    psutil = _psutil()
    procs = run_processes(folder, exclude)
    for proc in procs:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=grace)
    if remove:
        shutil.rmtree(folder, ignore_errors=True)
    return len(procs)


def owner_alive(folder: str) -> bool:
    """Whether the driver that created ``folder`` is still running.

    Parameters
    ----------
    folder : str
        A run's Ray temp folder.

    Returns
    -------
    bool
        False when the owner file is unreadable, or missing from a folder older
        than a minute, or its process is gone (or its id was reused by a
        process started later).
    """
    psutil = _psutil()
    try:
        if not os.path.exists(os.path.join(folder, OWNER_FILE)):
            return time.time() - os.path.getmtime(folder) < 60  # maybe being created now
        with open(os.path.join(folder, OWNER_FILE), encoding="utf-8") as handle:
            owner = json.load(handle)
        proc = psutil.Process(owner["pid"])
        return abs(proc.create_time() - owner["create_time"]) < 1.0 and proc.status() != "zombie"
    except (OSError, ValueError, KeyError, psutil.Error):
        return False


def stale_runs(base: str | None = None) -> list:
    """Spikey Ray folders under ``base`` whose driver is gone.

    Parameters
    ----------
    base : str, optional
        Default: :func:`temp_base` (and the system temp folder, if different).

    Returns
    -------
    list of str
    """
    bases = [base] if base else sorted({temp_base(), tempfile.gettempdir()})
    found = []
    for where in bases:
        try:
            names = os.listdir(where)
        except OSError:
            continue
        for name in sorted(names):
            folder = os.path.join(where, name)
            if name.startswith(PREFIX) and os.path.isdir(folder) and not owner_alive(folder):
                found.append(folder)
    return found


def start_watchdog(folder: str) -> subprocess.Popen:
    """Start the process that cleans ``folder`` up once this process exits, however it exits.

    Parameters
    ----------
    folder : str
        The run's Ray temp folder.

    Returns
    -------
    subprocess.Popen
        Its stdin is the pipe; closing it (or this process ending) triggers the cleanup.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "spikey.training.ray_cleanup", "watch", folder, str(os.getpid())],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, close_fds=True)


def _watch(folder: str, parent: int) -> None:
    for name in ("SIGINT", "SIGHUP", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    try:
        while sys.stdin.buffer.read(1 << 16):
            pass
    except OSError:
        pass
    time.sleep(0.5)  # a clean ray.shutdown is usually done by now
    kill_run(folder, exclude=(parent,))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "watch":
        _watch(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("usage: python -m spikey.training.ray_cleanup watch FOLDER DRIVER_PID")
