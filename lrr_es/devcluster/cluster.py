"""Start, stop and inspect a local Elasticsearch 7.10.2 cluster in one JVM.

Maven resolves ``org.codelibs:elasticsearch-cluster-runner`` (Elastic's server jar and the OSS
modules) from ``pom.xml`` beside this file, once; the class path is cached. Python then launches
the JVM detached, with the flags the Elasticsearch launcher would set, and waits for health.
Node ``i`` (1-based) serves HTTP on ``port + i - 1`` and transport on ``port + 100 + i - 1``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ClusterError

RUNNER_MAIN = "org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner"
POM = Path(__file__).with_name("pom.xml")
MAX_HTTP_PORT = 9299  # the runner refuses HTTP ports above this
STATE_FILE = "cluster.json"
LAYOUT_FILE = "layout.json"
RUNNER_LOG = "runner.log"
ES_JVM_FLAGS = (
    "-Des.distribution.flavor=default",  # elasticsearch-py refuses flavor "unknown"
    "-Des.distribution.type=tar",
    "-Djava.locale.providers=SPI,COMPAT",
    "-Dlog4j2.formatMsgNoLookups=true",
    "-Dlog4j.shutdownHookEnabled=false",
    "-Dlog4j2.disable.jmx=true",
    "-Dio.netty.noUnsafe=true",
    "-Dio.netty.noKeySetOptimization=true",
    "-Dio.netty.recycler.maxCapacityPerThread=0",
    "-Dio.netty.allocator.numDirectArenas=0",
    "-Des.networkaddress.cache.ttl=60",
    "-Des.networkaddress.cache.negative.ttl=10",
    "-Djava.awt.headless=true",
    "-Dfile.encoding=UTF-8",
    "-Djna.nosys=true",
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-Xss1m",
)
Echo = Callable[[str], None]


def default_data_dir() -> Path:
    """``$LRR_HOME/dev-cluster``, by default ``~/.local/share/lrr-es/dev-cluster``."""
    home = os.environ.get("LRR_HOME") or Path.home() / ".local" / "share" / "lrr-es"
    return Path(home) / "dev-cluster"


@dataclass(frozen=True)
class ClusterSpec:
    """Where and how the local cluster runs."""

    data_dir: Path
    port: int = 9200
    nodes: int = 1
    heap_mb: int = 0  # 0: 1024 MB for one node, 512 MB more per extra node
    cluster_name: str = "lrr-dev"

    def __post_init__(self) -> None:
        if not 1 <= self.nodes <= 9:
            raise ClusterError(f"--nodes must be between 1 and 9, got {self.nodes}")
        if not 1024 <= self.port or self.port + self.nodes - 1 > MAX_HTTP_PORT:
            raise ClusterError(
                f"--port must leave room for {self.nodes} node(s) between 1024 and {MAX_HTTP_PORT}, got {self.port}"
            )

    @property
    def http_ports(self) -> list[int]:
        return [self.port + i for i in range(self.nodes)]

    @property
    def transport_ports(self) -> list[int]:
        return [self.port + 100 + i for i in range(self.nodes)]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def heap(self) -> int:
        return self.heap_mb or 1024 + 512 * (self.nodes - 1)


@dataclass(frozen=True)
class ClusterStatus:
    running: bool
    url: str
    pid: int | None = None
    health: dict | None = None
    message: str = ""


# --- class path -------------------------------------------------------------------------------

def resolve_classpath(echo: Echo = print) -> str:
    """The JVM class path of the node, resolved by Maven once and cached by pom content."""
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:16]
    cache = Path(os.environ.get("LRR_CACHE") or Path.home() / ".cache" / "lrr-es") / f"classpath-{digest}.txt"
    if cache.exists():
        classpath = cache.read_text().strip()
        if classpath and all(Path(p).exists() for p in classpath.split(os.pathsep)):
            return classpath
    mvn = shutil.which("mvn")
    if not mvn:
        raise ClusterError("Maven (mvn) is not installed: it is needed once to fetch Elasticsearch 7.10.2 "
                           "from Maven Central (apt-get install maven)")
    cache.parent.mkdir(parents=True, exist_ok=True)
    echo("resolving Elasticsearch 7.10.2 artifacts with Maven (first run only)...")
    proc = subprocess.run(
        [mvn, "-q", "-B", "-f", str(POM), "dependency:build-classpath", f"-Dmdep.outputFile={cache}"],
        capture_output=True, text=True,
    )
    if proc.returncode != 0 or not cache.exists():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise ClusterError(f"Maven could not resolve the Elasticsearch artifacts:\n{tail}")
    return cache.read_text().strip()


def find_java() -> str:
    """The java binary (``$JAVA_HOME/bin/java`` first), checked to be Java 11 or newer."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise ClusterError("no Java found: install a JDK 11+ (apt-get install openjdk-17-jdk-headless) or set JAVA_HOME")
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', out)
    if not match or int(match.group(1)) < 11:
        raise ClusterError(f"{java} is not Java 11 or newer (it says: {out.strip()[:120]})")
    return java


# --- start / stop / status --------------------------------------------------------------------

def start(spec: ClusterSpec, timeout: float = 180.0, echo: Echo = print) -> ClusterStatus:
    """Start the cluster and wait until it is healthy; a running cluster is reported, not restarted."""
    current = status(spec)
    if current.running:
        return ClusterStatus(True, spec.url, current.pid, current.health, f"already running at {spec.url} (pid {current.pid})")
    java = find_java()
    _check_layout(spec)
    _check_ports_free(spec)
    classpath = resolve_classpath(echo)
    _write_node_configs(spec)
    log_path = spec.data_dir / RUNNER_LOG
    command = [
        java, f"-Xms{spec.heap}m", f"-Xmx{spec.heap}m", f"-Djava.io.tmpdir={_tmp_dir(spec)}", *ES_JVM_FLAGS,
        "-cp", classpath, RUNNER_MAIN, "-basePath", str(spec.data_dir), "-numOfNode", str(spec.nodes),
        "-baseHttpPort", str(spec.port - 1), "-clusterName", spec.cluster_name,
    ]
    log_offset = log_path.stat().st_size if log_path.exists() else 0  # diagnose this start only
    started = time.monotonic()
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=spec.data_dir)
    _write_state(spec, proc.pid)
    echo(f"starting {spec.nodes} Elasticsearch 7.10.2 node(s) at {spec.url} (pid {proc.pid}, data {spec.data_dir})")
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            (spec.data_dir / STATE_FILE).unlink(missing_ok=True)
            raise ClusterError(f"Elasticsearch exited during start (code {proc.returncode}): {diagnose(log_path, log_offset)}")
        health = _health(spec.url, spec.nodes)
        if health:
            took = time.monotonic() - started
            return ClusterStatus(True, spec.url, proc.pid, health, f"started in {took:.1f}s")
        time.sleep(0.5)
    cause = diagnose(log_path, log_offset)
    _terminate(proc.pid, 20)
    (spec.data_dir / STATE_FILE).unlink(missing_ok=True)
    raise ClusterError(f"Elasticsearch did not become healthy within {timeout:.0f}s; stopped it. {cause}")


def stop(spec: ClusterSpec, timeout: float = 60.0) -> ClusterStatus:
    """Stop the cluster cleanly (SIGTERM, then SIGKILL after ``timeout``)."""
    pid = _read_pid(spec)
    if pid is None:
        return ClusterStatus(False, spec.url, message="not running")
    killed = _terminate(pid, timeout)
    (spec.data_dir / STATE_FILE).unlink(missing_ok=True)
    return ClusterStatus(False, spec.url, pid, message="killed after timeout" if killed else "stopped")


def status(spec: ClusterSpec) -> ClusterStatus:
    """Whether our cluster process lives, and its health when it answers."""
    pid = _read_pid(spec)
    if pid is None:
        return ClusterStatus(False, spec.url, message="not running")
    health = _health(spec.url, 1, wait=False)
    note = "running" if health else "process alive but HTTP not answering (starting, or stuck: see logs)"
    return ClusterStatus(True, spec.url, pid, health, note)


def logs(spec: ClusterSpec, lines: int = 50) -> str:
    path = spec.data_dir / RUNNER_LOG
    if not path.exists():
        return f"no log at {path}"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def diagnose(log_path: Path, offset: int = 0) -> str:
    """A one-paragraph reason for a failed start, read from the runner log."""
    try:
        with open(log_path, "rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return "no log was written"
    known = [
        (r"failed to obtain node locks", "the data directory is locked by another Elasticsearch process"),
        (r"BindException|Address already in use", "a port is already in use"),
        (r"CorruptStateException|CorruptIndexException|IndexFormatToo(Old|New)Exception|failed to read \[?.*state"
         r"|IllegalStateException: .*metadata",
         "the data directory looks corrupt (start with a new --data dir, or delete this one)"),
        (r"OutOfMemoryError", "the JVM ran out of heap (raise --heap)"),
        (r"UnsupportedClassVersionError|ExceptionInInitializerError", "this Java version cannot run Elasticsearch 7.10.2 (use Java 11-17)"),
    ]
    causes = re.findall(r"(?:Caused by|Exception in thread \"main\"): (.+)", text)
    detail = causes[-1].strip()[:300] if causes else (text.strip().splitlines() or ["(empty log)"])[-1][:300]
    for pattern, meaning in known:
        if re.search(pattern, text):
            return f"{meaning}. Last cause: {detail}. Log: {log_path}"
    return f"last cause: {detail}. Log: {log_path}"


# --- internals --------------------------------------------------------------------------------

def _check_layout(spec: ClusterSpec) -> None:
    spec.data_dir.mkdir(parents=True, exist_ok=True)
    layout = spec.data_dir / LAYOUT_FILE
    if layout.exists():
        try:
            known = json.loads(layout.read_text())
        except ValueError:
            raise ClusterError(f"{layout} is corrupt; delete the data dir {spec.data_dir} or use another --data") from None
        if known.get("nodes") != spec.nodes:
            raise ClusterError(f"the data dir {spec.data_dir} holds a {known.get('nodes')}-node cluster; "
                               f"start it with --nodes {known.get('nodes')} or use another --data dir")
    else:
        layout.write_text(json.dumps({"nodes": spec.nodes, "version": "7.10.2"}))


def _check_ports_free(spec: ClusterSpec) -> None:
    for port in spec.http_ports + spec.transport_ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                raise ClusterError(f"port {port} on 127.0.0.1 is already in use; pick another --port "
                                   f"(HTTP uses {spec.http_ports}, transport {spec.transport_ports})") from None


def _write_node_configs(spec: ClusterSpec) -> None:
    seeds = ", ".join(f'"127.0.0.1:{p}"' for p in spec.transport_ports)
    for number, transport in enumerate(spec.transport_ports, start=1):
        conf = spec.data_dir / f"node_{number}" / "config"
        conf.mkdir(parents=True, exist_ok=True)
        lines = ["network.host: 127.0.0.1", f"transport.port: {transport}", "action.auto_create_index: true"]
        if spec.nodes == 1:
            lines.append("discovery.type: single-node")
        else:
            lines += [f"discovery.seed_hosts: [{seeds}]", 'cluster.initial_master_nodes: ["Node 1"]']
        (conf / "elasticsearch.yml").write_text("\n".join(lines) + "\n")


def _tmp_dir(spec: ClusterSpec) -> Path:
    path = spec.data_dir / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_state(spec: ClusterSpec, pid: int) -> None:
    state = {"pid": pid, "port": spec.port, "nodes": spec.nodes, "started_at": time.time()}
    (spec.data_dir / STATE_FILE).write_text(json.dumps(state))


def _read_pid(spec: ClusterSpec) -> int | None:
    path = spec.data_dir / STATE_FILE
    try:
        pid = int(json.loads(path.read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if _alive(pid) and _is_runner(pid):
        return pid
    path.unlink(missing_ok=True)  # stale state from a crashed or rebooted machine
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of this very process counts as dead
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return True


def _is_runner(pid: int) -> bool:
    try:
        return RUNNER_MAIN.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc: trust the pid


def _terminate(pid: int, timeout: float) -> bool:
    """SIGTERM the process group, wait, SIGKILL if needed. True when it had to be killed."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return False
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    while _alive(pid):
        time.sleep(0.1)
    return True


def _health(url: str, nodes: int, wait: bool = True) -> dict | None:
    query = f"wait_for_status=yellow&wait_for_nodes=%3E%3D{nodes}&timeout=1s" if wait else "timeout=1s"
    try:
        with urllib.request.urlopen(f"{url}/_cluster/health?{query}", timeout=5) as response:
            health = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None
    if wait and (health.get("timed_out") or health.get("number_of_nodes", 0) < nodes):
        return None
    return health
