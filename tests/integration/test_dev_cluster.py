"""`lrr-es dev-cluster` on real JVMs: start, already running, persistence across restart, port taken, 3 nodes.

These start their own clusters on ports 9270 and 9280 whatever $ES_URL says."""
import json
import socket
import subprocess
import sys
import urllib.request

import pytest

from lrr_es.devcluster import ClusterSpec, start, status, stop
from lrr_es.errors import ClusterError

pytestmark = pytest.mark.integration


def http(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_start_status_restart_keeps_data_and_stop(tmp_path):
    spec = ClusterSpec(data_dir=tmp_path / "one", port=9270)
    try:
        first = start(spec, echo=lambda _: None)
        assert first.running and first.message.startswith("started in")
        assert http(spec.url)["version"]["number"] == "7.10.2"
        again = start(spec, echo=lambda _: None)
        assert again.message == f"already running at {spec.url} (pid {first.pid})" and again.pid == first.pid
        http(f"{spec.url}/keep/_doc/1?refresh=true", "PUT", {"title": "persisted"})
        assert stop(spec).message == "stopped" and not status(spec).running
        start(spec, echo=lambda _: None)
        http(f"{spec.url}/_cluster/health/keep?wait_for_status=yellow&timeout=30s")
        assert http(f"{spec.url}/keep/_doc/1")["_source"] == {"title": "persisted"}
    finally:
        stop(spec)
    assert stop(spec).message == "not running"


def test_a_taken_port_is_reported_before_the_jvm_starts(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 9275))
        sock.listen()
        with pytest.raises(ClusterError, match="port 9275 on 127.0.0.1 is already in use"):
            start(ClusterSpec(data_dir=tmp_path / "busy", port=9275), echo=lambda _: None)


def test_a_data_dir_locked_by_another_node_is_named(tmp_path):
    spec = ClusterSpec(data_dir=tmp_path / "locked", port=9270)
    other = ClusterSpec(data_dir=tmp_path / "locked", port=9272)
    try:
        start(spec, echo=lambda _: None)
        (tmp_path / "locked" / "cluster.json").rename(tmp_path / "hidden.json")  # as if started by someone else
        with pytest.raises(ClusterError, match="locked by another Elasticsearch process"):
            start(other, timeout=60, echo=lambda _: None)
    finally:
        (tmp_path / "hidden.json").rename(tmp_path / "locked" / "cluster.json")
        stop(spec)


def test_a_corrupt_data_dir_is_named_and_the_node_stopped(tmp_path):
    spec = ClusterSpec(data_dir=tmp_path / "corrupt", port=9270)
    start(spec, echo=lambda _: None)
    http(f"{spec.url}/x", "PUT", {})
    stop(spec)
    for path in (tmp_path / "corrupt" / "node_1" / "data").rglob("*"):
        if path.is_file() and "_state" in path.parts:
            path.write_bytes(b"garbage" * 10)
    with pytest.raises(ClusterError, match="the data directory looks corrupt"):
        start(spec, timeout=90, echo=lambda _: None)
    assert not status(spec).running


def test_three_nodes_form_one_cluster_and_spread_shards(tmp_path):
    spec = ClusterSpec(data_dir=tmp_path / "three", port=9280, nodes=3)
    try:
        result = start(spec, echo=lambda _: None)
        assert result.health["number_of_nodes"] == 3
        http(f"{spec.url}/spread", "PUT", {"settings": {"number_of_shards": 3, "number_of_replicas": 1}})
        health = http(f"{spec.url}/_cluster/health/spread?wait_for_status=green&timeout=60s")
        assert health["status"] == "green" and health["active_shards"] == 6
        shards = http(f"{spec.url}/_cat/shards/spread?format=json")
        assert len({s["node"] for s in shards}) == 3
        for port in spec.http_ports:  # every node answers on its own port
            assert http(f"http://127.0.0.1:{port}/_cluster/health")["number_of_nodes"] == 3
    finally:
        stop(spec)


def test_the_cli_says_what_is_wrong(tmp_path):
    env_free = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "lrr_es.cli", "dev-cluster", "start", "--port", "9299", "--nodes", "2",
                           "--data", str(tmp_path / "x")], capture_output=True, text=True, env=env_free)
    assert proc.returncode == 1 and "lrr-es: error: --port must leave room for 2 node(s)" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "lrr_es.cli", "dev-cluster", "status", "--data", str(tmp_path / "x")],
                          capture_output=True, text=True, env=env_free)
    assert proc.returncode == 3 and "not running" in proc.stdout
