"""Invariant 1: no network, no telemetry. Every Librarian process runs with the network unused.

onnxruntime ships Microsoft telemetry (1DS): at import it writes a device id under
``~/.cache/Microsoft/DeveloperTools/`` and about nine seconds later resolves an events host. These
probes run the real CLI on the real shipped model, in child processes with a throw-away HOME:

- `traced_cli` runs one command under ``strace`` and returns every socket address it used;
- `is_network` says whether one such address leaves the machine (or is a DNS query);
- `run_cli` runs a command plainly (optionally inside ``unshare -n``).

A new probe is a few lines: run the command, then assert on the addresses or the HOME it left.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

LIBRARIAN = [sys.executable, "-m", "librarian.engine.cli"]
TIMEOUT_S = 300  # a bound on a hang, not a speed assertion: the machine may be loaded
# onnxruntime's telemetry uploads on a timer about nine seconds after import; a process must live
# longer than that after loading it for a leak to show.
TELEMETRY_TIMER_S = 12

SOCKADDR = re.compile(r"\{sa_family=(AF_\w+)([^}]*)\}")
PORT = re.compile(r"(?:sin6?_port)=htons\((\d+)\)")
ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')
LOCAL_FAMILIES = {"AF_UNIX", "AF_LOCAL", "AF_NETLINK", "AF_UNSPEC"}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A throw-away HOME (and XDG cache) so anything written under it can be checked."""
    path = tmp_path / "home"
    (path / "cache").mkdir(parents=True)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A small real folder to index."""
    path = tmp_path / "docs"
    path.mkdir()
    (path / "fruit.txt").write_text("Apples, pears and oranges are fruit that grow on trees.\n", encoding="utf-8")
    (path / "cars.md").write_text("# Cars\n\nA fast automobile needs good brakes and tyres.\n", encoding="utf-8")
    (path / "page.html").write_text("<html><body><p>The lazy dog sleeps by the fire.</p></body></html>",
                                    encoding="utf-8")
    return path


def child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ORT_DISABLE_TELEMETRY", "LIBRARIAN_DEBUG")}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / "cache"), TOKENIZERS_PARALLELISM="false")
    return env


def run_cli(home: Path, data: Path, *argv: str, prefix: tuple[str, ...] = (), stdin: str | None = None,
            linger_after: str = "", linger_s: float = 0) -> subprocess.CompletedProcess:
    """Run `librarian --data-dir DATA ARGV...` in a child (behind ``prefix``, e.g. strace or unshare).
    With ``linger_after`` the command is `shell`-like: ``stdin`` is written, and once a line of its
    stderr holds ``linger_after`` (the library is open) the pipe is held open ``linger_s`` longer
    before it is closed; the process waits at its prompt meanwhile."""
    cmd = [*prefix, *LIBRARIAN, "--data-dir", str(data), *argv]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=child_env(home))
    watchdog = threading.Timer(TIMEOUT_S, proc.kill)  # a bound on a hang, whatever the child does
    watchdog.start()
    early_err = ""
    try:
        if linger_after:
            assert proc.stdin is not None and proc.stderr is not None
            proc.stdin.write(stdin or "")
            proc.stdin.flush()
            for line in proc.stderr:
                early_err += line
                if linger_after in line:
                    break
            time.sleep(linger_s)  # not an assertion on speed: gives a telemetry timer the time to fire
            stdin = None  # communicate() closes the pipe: end of input quits the prompt
        out, err = proc.communicate(stdin)
    finally:
        watchdog.cancel()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, early_err + err)


def strace_works() -> bool:
    if shutil.which("strace") is None:
        return False
    done = subprocess.run(["strace", "-f", "-o", os.devnull, "true"], capture_output=True, timeout=60)
    return done.returncode == 0


def traced_cli(tmp_path: Path, home: Path, data: Path, *argv: str, **kwargs) -> list[str]:
    """Run one CLI command (and its children) under strace; return every socket address it used."""
    trace = tmp_path / f"strace-{argv[0]}.txt"
    prefix = ("strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg,sendmmsg", "-o", str(trace))
    done = run_cli(home, data, *argv, prefix=prefix, **kwargs)
    assert done.returncode == 0, done.stderr[-2000:]
    return [m.group(0) for m in SOCKADDR.finditer(trace.read_text(encoding="utf-8", errors="replace"))]


def is_network(sockaddr: str) -> bool:
    """True for an address that leaves the machine, and for any DNS query (port 53, even local)."""
    family_match = SOCKADDR.match(sockaddr)
    assert family_match, sockaddr
    family = family_match.group(1)
    if family in LOCAL_FAMILIES:
        return False
    if family not in ("AF_INET", "AF_INET6"):
        return True
    port = PORT.search(sockaddr)
    if port and int(port.group(1)) == 53:
        return True
    address = ADDRESS.search(sockaddr)
    host = (address.group(1) or address.group(2)) if address else ""
    return not (host.startswith("127.") or host in ("::1", "::ffff:127.0.0.1"))


def telemetry_dirs(home: Path) -> list[Path]:
    return [p for p in (home / ".cache" / "Microsoft", home / "cache" / "Microsoft") if p.exists()]


# -- the parser itself ---------------------------------------------------------------------------
@pytest.mark.parametrize("line, leaves", [
    ('connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT', False),
    ('connect(8, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0', True),
    ('connect(8, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 0', True),
    ('connect(8, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("20.42.65.92")}, 16', True),
    ('connect(8, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16) = 0', False),
    ('sendmsg(3, {msg_name={sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
     'inet_pton(AF_INET6, "2603:1030::1", &sin6_addr), sin6_scope_id=0}, msg_namelen=28}, 0) = 1', True),
    ('sendto(4, "x", 20, 0, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12) = 20', False),
])
def test_is_network_reads_strace_lines(line, leaves):
    (sockaddr,) = [m.group(0) for m in SOCKADDR.finditer(line)]
    assert is_network(sockaddr) is leaves


# -- the probes ----------------------------------------------------------------------------------
@pytest.mark.skipif(not strace_works(), reason="strace is missing or not permitted here (apt install strace)")
def test_index_and_search_use_no_network(tmp_path, home, folder):
    data = tmp_path / "data"
    used = traced_cli(tmp_path, home, data, "index", "-q", str(folder))
    used += traced_cli(tmp_path, home, data, "search", "fruit on trees")
    # A prompt that stays open past onnxruntime's upload timer, with the model loaded and a search run.
    used += traced_cli(tmp_path, home, data, "shell", stdin="fast automobile\n", linger_after="Type a query",
                       linger_s=TELEMETRY_TIMER_S)
    leaks = [address for address in used if is_network(address)]
    assert not leaks, f"Librarian used the network: {leaks[:5]}"


def unshare_net_works() -> list[str] | None:
    """The unshare prefix that gives a child no network (root: -n; others: a user namespace too)."""
    if shutil.which("unshare") is None:
        return None
    for prefix in (["unshare", "-n"], ["unshare", "-r", "-n"]):
        if subprocess.run([*prefix, "true"], capture_output=True, timeout=60).returncode == 0:
            return prefix
    return None


@pytest.mark.skipif(unshare_net_works() is None, reason="unshare -n is not permitted here")
def test_index_and_search_work_without_a_network(tmp_path, home, folder):
    prefix = tuple(unshare_net_works() or ())
    data = tmp_path / "data"
    indexed = run_cli(home, data, "index", "-q", str(folder), prefix=prefix)
    assert indexed.returncode == 0, indexed.stderr[-2000:]
    found = run_cli(home, data, "search", "--json", "automobile brakes", prefix=prefix)
    assert found.returncode == 0, found.stderr[-2000:]
    assert "cars.md" in found.stdout


def test_index_and_search_leave_no_telemetry_files(tmp_path, home, folder):
    data = tmp_path / "data"
    assert run_cli(home, data, "index", "-q", str(folder)).returncode == 0
    assert run_cli(home, data, "search", "lazy dog").returncode == 0
    assert telemetry_dirs(home) == []


@pytest.mark.parametrize("code", [
    "import librarian.engine.vectors",
    "import librarian.engine.library",
    "from librarian.engine.encoders import load_model; load_model().question.embed_query('hi')",
    "from librarian.desktop.opener import open_library; open_library(sys.argv[1], None)",
], ids=["vectors", "library", "encoder", "gui-opener"])
def test_every_way_in_turns_telemetry_off(tmp_path, home, code):
    """The GUI, the engine and a bare encoder all load onnxruntime through the one module."""
    done = subprocess.run([sys.executable, "-c", f"import sys; {code}", str(tmp_path / "data")],
                          capture_output=True, text=True, timeout=TIMEOUT_S, env=child_env(home))
    assert done.returncode == 0, done.stderr[-2000:]
    assert telemetry_dirs(home) == []


def test_onnxruntime_is_imported_in_one_place_only():
    """Every import of onnxruntime in the app goes through engine/_onnxruntime.py, which turns
    telemetry off before the library loads (the build-time model pipeline in models/ is not the app)."""
    root = Path(__file__).resolve().parents[1]
    direct = re.compile(r"^\s*(import onnxruntime|from onnxruntime[\w.]* import)", re.MULTILINE)
    offenders = [str(p.relative_to(root)) for folder in ("engine", "desktop", "packaging")
                 for p in (root / folder).rglob("*.py") if direct.search(p.read_text(encoding="utf-8"))]
    assert offenders == ["engine/_onnxruntime.py"]
