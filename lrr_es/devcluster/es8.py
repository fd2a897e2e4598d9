"""Start and stop a real Elasticsearch 8.19 node for the 8.x client compatibility job.

Maven fetches Elastic's integ-test distribution zip (``pom-es8.xml`` beside this file) once; it is
unpacked into a cache directory keyed by version and pom. Each start links that home into a fresh
run directory under the system temp dir, writes the node's config there (single node, security
off, loopback, fixed ports and heap) and launches ``bin/elasticsearch`` detached in its own
process group. Elasticsearch refuses to run as root, so a root caller runs it as the system user
``lrr-es`` (created when missing), which owns the run directory; anyone else runs it as themselves.

The distribution carries only transport-netty4, apm and x-pack core/security: no Painless, no
mapper-extras (rank_feature), no analysis-common, no reindex, and no rest-root (``GET /`` answers 405).
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import ClusterError
from .cluster import Echo, _alive, _health, _terminate

ES8_VERSION = "8.19.21"
POM = Path(__file__).with_name("pom-es8.xml")
RUN_USER = "lrr-es"
MIN_JAVA = 21
CONSOLE_LOG = "console.log"


@dataclass(frozen=True)
class Es8Node:
    """A running 8.x node: where it answers, its process group and its run directory."""

    url: str
    pid: int
    run_dir: Path
    version: str
    seconds: float  # how long the start took


# --- distribution and Java ----------------------------------------------------------------------

def cache_root() -> Path:
    return Path(os.environ.get("LRR_CACHE") or Path.home() / ".cache" / "lrr-es")


def resolve_home(echo: Echo = print) -> Path:
    """The unpacked Elasticsearch home, fetched through Maven and unpacked once (then instant)."""
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:12]
    cache = cache_root() / f"es-{ES8_VERSION}-{digest}"
    home = cache / f"elasticsearch-{ES8_VERSION}"
    if (cache / ".complete").exists() and (home / "bin" / "elasticsearch").exists():
        return home
    mvn = shutil.which("mvn")
    if not mvn:
        raise ClusterError(f"Maven (mvn) is not installed: it is needed once to fetch Elasticsearch {ES8_VERSION} "
                           "from Maven Central (apt-get install maven)")
    shutil.rmtree(cache, ignore_errors=True)  # a half-done earlier attempt
    download = cache / "download"
    download.mkdir(parents=True)
    echo(f"fetching Elasticsearch {ES8_VERSION} (integ-test zip, ~100 MB) with Maven (first run only)...")
    proc = subprocess.run([mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
                           f"-DoutputDirectory={download}", "-DincludeTypes=zip"], capture_output=True, text=True)
    zips = sorted(download.glob("elasticsearch-*.zip"))
    if proc.returncode != 0 or not zips:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise ClusterError(f"Maven could not fetch org.elasticsearch.distribution.integ-test-zip:elasticsearch:"
                           f"{ES8_VERSION} (exit {proc.returncode}):\n{tail}")
    _unzip(zips[0], cache)
    shutil.rmtree(download)
    if not (home / "bin" / "elasticsearch").exists():
        raise ClusterError(f"the Elasticsearch {ES8_VERSION} zip did not hold elasticsearch-{ES8_VERSION}/bin/elasticsearch")
    (cache / ".complete").write_text(ES8_VERSION + "\n")
    return home


def _unzip(archive: Path, target: Path) -> None:
    """Unpack keeping the Unix permission bits (zipfile drops them; the scripts must stay executable)."""
    with zipfile.ZipFile(archive) as zipped:
        for member in zipped.infolist():
            path = Path(zipped.extract(member, target))
            mode = (member.external_attr >> 16) & 0o777
            if mode:
                path.chmod(mode)


def find_java_home() -> Path:
    """A JDK 21+ home: ``$LRR_ES8_JAVA_HOME``, else the newest Temurin/OpenJDK 21+ under /usr/lib/jvm."""
    explicit = os.environ.get("LRR_ES8_JAVA_HOME")
    candidates = [explicit] if explicit else sorted(
        glob.glob("/usr/lib/jvm/temurin-*") + glob.glob("/usr/lib/jvm/java-*-openjdk-*") + glob.glob("/usr/lib/jvm/jdk-*"),
        key=_major_in_name, reverse=True)
    seen = []
    for home in candidates:
        major = _java_major(Path(home))
        seen.append(f"{home} ({'no bin/java' if major is None else f'Java {major}'})")
        if major is not None and major >= MIN_JAVA:
            return Path(home)
    where = "; ".join(seen) or "nothing under /usr/lib/jvm"
    raise ClusterError(f"Elasticsearch {ES8_VERSION} needs Java {MIN_JAVA}+ and none was found ({where}); install a "
                       f"JDK {MIN_JAVA}+ (e.g. Temurin) or set LRR_ES8_JAVA_HOME to its home")


def _major_in_name(path: str) -> int:
    match = re.search(r"(\d+)", Path(path).name)
    return int(match.group(1)) if match else 0


def _java_major(home: Path) -> int | None:
    java = home / "bin" / "java"
    if not java.exists():
        return None
    out = subprocess.run([str(java), "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', out)
    return int(match.group(1)) if match else None


# --- the unprivileged user and the run directory -----------------------------------------------

def run_user() -> pwd.struct_passwd:
    """Who runs the node: the current user, or (as root) the system user ``lrr-es``, created if missing."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    try:
        return pwd.getpwnam(RUN_USER)
    except KeyError:
        pass
    proc = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                           "--shell", "/usr/sbin/nologin", RUN_USER], capture_output=True, text=True)
    if proc.returncode != 0 and "already exists" not in proc.stderr:  # another process may have won the race
        raise ClusterError(f"Elasticsearch refuses to run as root and `useradd {RUN_USER}` failed: {proc.stderr.strip()}")
    return pwd.getpwnam(RUN_USER)


def prepare_run_dir(home: Path, port: int, transport_port: int, user: pwd.struct_passwd) -> Path:
    """A fresh directory with a linked copy of ``home`` and a config/data/logs/tmp the node's user owns."""
    run = Path(tempfile.mkdtemp(prefix=f"lrr-es8-{port}-", dir=os.environ.get("LRR_ES8_RUN_ROOT")))
    shutil.copytree(home, run / "home", copy_function=_link_or_copy, ignore=shutil.ignore_patterns("config"))
    shutil.copytree(home / "config", run / "config")
    for name in ("data", "logs", "tmp"):
        (run / name).mkdir()
    settings = {
        "cluster.name": f"lrr-es8-{port}", "node.name": "lrr-es8", "discovery.type": "single-node",
        "network.host": "127.0.0.1", "http.port": port, "transport.port": transport_port,
        "xpack.security.enabled": False, "path.data": str(run / "data"), "path.logs": str(run / "logs"),
        "cluster.routing.allocation.disk.threshold_enabled": False, "action.destructive_requires_name": False,
    }
    (run / "config" / "elasticsearch.yml").write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in settings.items()))
    owned = [run, run / "home"]  # the linked distribution inside stays read-only, shared with the cache
    for name in ("config", "data", "logs", "tmp"):
        owned += [run / name, *(run / name).rglob("*")]
    for path in owned:
        os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)
    return run


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system
        shutil.copy2(src, dst)


# --- start / stop ------------------------------------------------------------------------------

def start(port: int = 9420, heap_mb: int = 512, timeout: float = 180.0, echo: Echo = print) -> Es8Node:
    """Start an Elasticsearch 8.19 node on 127.0.0.1:``port`` (transport on ``port + 1``) and wait for it."""
    for p in (port, port + 1):
        if not _port_free(p):
            raise ClusterError(f"port {p} on 127.0.0.1 is already in use; the 8.x node needs {port} (HTTP) and {port + 1} "
                               "(transport): pick another port (LRR_ES8_PORT)")
    java_home = find_java_home()
    home = resolve_home(echo)
    user = run_user()
    run = prepare_run_dir(home, port, port + 1, user)
    env = {**os.environ, "ES_JAVA_HOME": str(java_home), "ES_PATH_CONF": str(run / "config"), "ES_TMPDIR": str(run / "tmp"),
           "ES_JAVA_OPTS": f"-Xms{heap_mb}m -Xmx{heap_mb}m", "HOME": str(run), "USER": user.pw_name, "LOGNAME": user.pw_name}
    env.pop("JAVA_HOME", None)
    as_user = {} if os.geteuid() != 0 else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    started = time.monotonic()
    with open(run / CONSOLE_LOG, "ab") as console:
        proc = subprocess.Popen([str(run / "home" / "bin" / "elasticsearch")], stdout=console, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=run, env=env, start_new_session=True, **as_user)
    url = f"http://127.0.0.1:{port}"
    echo(f"starting Elasticsearch {ES8_VERSION} at {url} as {user.pw_name} (pid {proc.pid}, Java {java_home}, run dir {run})")
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise ClusterError(f"Elasticsearch {ES8_VERSION} exited during start (code {proc.returncode}); "
                               f"last lines of its log ({run}):\n{log_tail(run)}")
        if _health(url, 1):
            version = node_version(url)
            if version != ES8_VERSION:
                _terminate(proc.pid, 30)
                raise ClusterError(f"the node at {url} says version {version}, not {ES8_VERSION}: is another node on that port?")
            return Es8Node(url, proc.pid, run, version, time.monotonic() - started)
        time.sleep(0.5)
    tail = log_tail(run)
    _terminate(proc.pid, 30)
    raise ClusterError(f"Elasticsearch {ES8_VERSION} did not become healthy within {timeout:.0f}s; stopped it. "
                       f"Last lines of its log ({run}):\n{tail}")


def stop(node: Es8Node, timeout: float = 60.0, keep_run_dir: bool = False) -> bool:
    """Stop the node's process group (SIGTERM, SIGKILL after ``timeout``) and remove its run directory.

    True when it had to be killed.
    """
    killed = _terminate(node.pid, timeout) if _alive(node.pid) else False
    if not keep_run_dir:
        shutil.rmtree(node.run_dir, ignore_errors=True)
    return killed


def node_version(url: str) -> str | None:
    """The version from ``GET /_nodes/_local`` (this distribution answers ``GET /`` with 405)."""
    try:
        with urllib.request.urlopen(f"{url}/_nodes/_local?filter_path=nodes.*.version", timeout=5) as response:
            nodes = json.loads(response.read()).get("nodes", {})
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return next((n.get("version") for n in nodes.values()), None)


def log_tail(run: Path, lines: int = 25) -> str:
    """The last lines of the console output, or of the node's own log when the console is empty."""
    for path in [run / CONSOLE_LOG, *sorted((run / "logs").glob("*.log"))]:
        try:
            text = path.read_text(errors="replace").strip()
        except OSError:
            continue
        if text:
            return "\n".join(text.splitlines()[-lines:])
    return "(no log was written)"


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
