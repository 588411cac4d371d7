"""Temporary files for atomic writes, named after their writer, and their cleanup.

An atomic write goes to a temporary file in the target's folder that is
renamed over the target. A process killed mid-write (SIGKILL, power loss)
leaves its temporary file behind; these accumulate (a network save is
megabytes). So every temporary file is named
``{prefix}{pid}@{host}-{random}{suffix}`` and each new write first removes the
*stale* files of the same naming in its folder: those whose writer process
(same host) is no longer alive, and any older than :data:`STALE_SECONDS`
(files of another host, whose process cannot be checked, or of the naming
before the pid was added).
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import time

STALE_SECONDS = 15 * 60  # no save takes this long; older temporary files are leftovers


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (a zombie counts as alive).

    Parameters
    ----------
    pid : int
        Process id.

    Returns
    -------
    bool
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def make_temp(folder: str, prefix: str, suffix: str = ""):
    """Create a temporary file in ``folder`` named after this process; clean stale ones first.

    Parameters
    ----------
    folder : str
        Folder of the target file (the rename must stay on one file system).
    prefix, suffix : str
        Start and end of the name, e.g. ``".spikey-"`` and ``".tmp"``.

    Returns
    -------
    (int, str)
        An open file descriptor and the path, as :func:`tempfile.mkstemp`.
    """
    clean_stale(folder, prefix, suffix)
    return tempfile.mkstemp(dir=folder, prefix=f"{prefix}{os.getpid()}@{_host()}-", suffix=suffix)


def clean_stale(folder: str, prefix: str, suffix: str = "", max_age: float | None = None) -> list:
    """Remove the stale temporary files of this naming in ``folder`` (see the module docstring).

    Parameters
    ----------
    folder : str
        Folder to clean.
    prefix, suffix : str
        The naming of :func:`make_temp`.
    max_age : float, optional
        Seconds after which any such file counts as stale; default :data:`STALE_SECONDS`.

    Returns
    -------
    list of str
        The paths removed.
    """
    max_age = STALE_SECONDS if max_age is None else max_age
    pattern = re.compile(re.escape(prefix) + r"(?:(\d+)@([A-Za-z0-9._]+)-)?.*" + re.escape(suffix) + r"\Z")
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    now, host = time.time(), _host()
    for name in names:
        match = pattern.match(name)
        if match is None:
            continue
        path = os.path.join(folder, name)
        pid, writer_host = match.group(1), match.group(2)
        try:
            age = now - os.stat(path).st_mtime
        except OSError:
            continue
        dead = pid is not None and writer_host == host and not pid_alive(int(pid))
        if dead or age > max_age:
            try:
                os.unlink(path)
                removed.append(path)
            except OSError:
                pass  # another process cleaned it, or it is not ours to remove
    return removed
