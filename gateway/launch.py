"""``gateway run``'s processes: the web server and one worker as children, started, watched and stopped together.

Each child runs in its own session (process group), so the Ctrl-C a terminal sends to its foreground group
reaches this process alone; it then stops the children in order and in time: SIGTERM to each group, SIGKILL to
whatever still runs after :data:`GRACE_S` (the RQ scheduler and granian's workers are grandchildren, and go with
their group), then the embedded Redis (which flushes its AOF on SIGTERM). The whole stop stays under 3 s. Should
``gateway run`` itself be killed outright, Linux sends each child SIGTERM (``PR_SET_PDEATHSIG``): nothing is left
holding the port.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: How long the children get to stop on their own before they are killed (an idle RQ worker needs about 1 s).
GRACE_S = 1.5
#: How long the web server gets to answer /healthz after it is started.
READY_TIMEOUT_S = 60.0


@dataclass
class Children:
    """The child processes of one ``gateway run``, by the name the operator reads; each inherits this process's
    environment as it is when the child starts."""

    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, argv: Sequence[str]) -> None:
        self.procs[name] = subprocess.Popen(list(argv), start_new_session=True, preexec_fn=_die_with_parent())

    def exited(self) -> list[str]:
        """Names of the children that stopped on their own."""
        return [name for name, proc in self.procs.items() if proc.poll() is not None]

    def stop(self, grace: float = GRACE_S) -> None:
        """SIGTERM every child (each stops its own workers: granian's, RQ's scheduler), then SIGKILL the groups
        still alive after ``grace`` seconds."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in self.procs.values():
            _signal_group(proc, signal.SIGKILL)  # the group's leftovers too (a scheduler, a granian worker)
            proc.wait()


def _die_with_parent() -> Callable[[], None] | None:
    """What a child runs before it starts (Linux): ask the kernel for SIGTERM when its parent dies."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)  # loaded here, not in the forked child
    pr_set_pdeathsig = 1

    def ask() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)

    return ask


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def wait_ready(url: str, children: Children, cancelled: Callable[[], bool],
               timeout: float = READY_TIMEOUT_S) -> bool:
    """Wait until ``url`` answers 200; False when a child stopped, ``cancelled()`` or time ran out first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not children.exited() and not cancelled():
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    return False


def command_name(argv0: str | None = None) -> str:
    """How the reader runs ``gateway`` from where they are: ``.venv/bin/gateway`` under ``make run``, plain
    ``gateway`` when the one on PATH is this one (``pip install .``), else the script's own path."""
    script = Path(argv0 if argv0 is not None else sys.argv[0])
    if script.name != "gateway":
        return "gateway"  # python -m gateway: the package is installed, so its script is too
    on_path = shutil.which("gateway")
    if on_path and Path(on_path).resolve() == script.resolve():
        return "gateway"
    try:
        return str(script.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def banner(*, port: int, token: str, redis_where: str, demo_lines: Sequence[str], command: str = "gateway") -> str:
    """What ``gateway run`` prints once everything answers: where to dial, what to try, how to stop."""
    base = f"http://127.0.0.1:{port}"
    dial = f"{command} dial"
    tries = [(dial, "a Kenyan SIM at home"),
             (f"{dial} --phone +254711000002 --network 42701", "the same SIM roaming in Qatar"),
             (f"{dial} --width 20 '*384*55*1*2#'", "inputs in the code, a 20-column screen")]
    width = max(len(call) for call, _ in tries)
    rule = "=" * 78
    lines = [
        "",
        rule,
        "The gateway is running.",
        "",
        "Dial it from another terminal (a handset in your terminal):",
        *(f"  {call:<{width}}  {what}" for call, what in tries),
        "",
        *[f"  {line}" for line in demo_lines],
        "",
        f"Agency console:  {base}/console/",
        f"Agency API:      {base}/api/v1   (a key: {command} apikey create NAME)",
        f"AT callbacks:    {base}/ussd?token={token}",
        "                 (the same token on /sms/inbound, /sms/delivery, /sms/optout, /voice)",
        f"Data:            {redis_where}",
        "",
        "Stop with Ctrl-C.",
        rule,
        "",
    ]
    return "\n".join(lines)
