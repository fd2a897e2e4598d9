import socket

import pytest

from lrr_es.devcluster.cluster import ClusterSpec, _check_layout, _check_ports_free, diagnose
from lrr_es.errors import ClusterError


def test_spec_ports_and_heap(tmp_path):
    spec = ClusterSpec(data_dir=tmp_path, port=9260, nodes=3)
    assert spec.http_ports == [9260, 9261, 9262] and spec.transport_ports == [9360, 9361, 9362]
    assert spec.url == "http://127.0.0.1:9260" and spec.heap == 2048


@pytest.mark.parametrize("port, nodes", [(9299, 2), (80, 1), (9300, 1)])
def test_spec_refuses_ports_the_runner_cannot_use(tmp_path, port, nodes):
    with pytest.raises(ClusterError, match="--port must leave room"):
        ClusterSpec(data_dir=tmp_path, port=port, nodes=nodes)


def test_port_in_use_is_named(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        spec = ClusterSpec.__new__(ClusterSpec)  # any port: bypass the runner's range check
        object.__setattr__(spec, "data_dir", tmp_path)
        object.__setattr__(spec, "port", port)
        object.__setattr__(spec, "nodes", 1)
        with pytest.raises(ClusterError, match=f"port {port} on 127.0.0.1 is already in use"):
            _check_ports_free(spec)


def test_layout_mismatch_is_refused(tmp_path):
    _check_layout(ClusterSpec(data_dir=tmp_path, port=9200, nodes=3))
    with pytest.raises(ClusterError, match="holds a 3-node cluster; start it with --nodes 3"):
        _check_layout(ClusterSpec(data_dir=tmp_path, port=9200, nodes=1))
    (tmp_path / "layout.json").write_text("{not json")
    with pytest.raises(ClusterError, match="layout.json is corrupt"):
        _check_layout(ClusterSpec(data_dir=tmp_path, port=9200, nodes=3))


@pytest.mark.parametrize("log, meaning", [
    ("Caused by: java.lang.IllegalStateException: failed to obtain node locks, tried [[/d]]", "locked by another"),
    ("Caused by: java.net.BindException: Address already in use", "a port is already in use"),
    ("Caused by: org.elasticsearch.gateway.CorruptStateException: format version", "looks corrupt"),
    ("Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space", "ran out of heap"),
])
def test_diagnose_names_known_causes(tmp_path, log, meaning):
    path = tmp_path / "runner.log"
    path.write_text("starting\n" + log + "\n")
    assert meaning in diagnose(path)


def test_diagnose_unknown_cause_quotes_the_log(tmp_path):
    path = tmp_path / "runner.log"
    path.write_text("Caused by: java.lang.RuntimeException: something odd\n")
    assert "something odd" in diagnose(path) and str(path) in diagnose(path)
    assert "no log was written" in diagnose(tmp_path / "missing.log")


def test_the_help_says_the_port_range():
    from click.testing import CliRunner
    from lrr_es.cli import cli
    group = CliRunner().invoke(cli, ["dev-cluster", "--help"]).output
    assert "P + 100 + i - 1" in group and "1024-9299" in group
    start = CliRunner().invoke(cli, ["dev-cluster", "start", "--help"]).output
    assert "1024-9299" in start and "transport port+100+i-1" in start
