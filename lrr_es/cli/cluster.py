"""``lrr-es dev-cluster`` and ``lrr-es demo``: a real local Elasticsearch node, and the demo on it."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click


def _cluster_options(f):
    f = click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Data directory (default: $LRR_HOME/dev-cluster, i.e. ~/.local/share/lrr-es/dev-cluster).")(f)
    f = click.option("--port", type=int, default=9200, show_default=True, help="HTTP port of node 1, 1024-9299 (node i: HTTP port+i-1, transport port+100+i-1; the "
                                "runner refuses HTTP ports above 9299).")(f)
    f = click.option("--nodes", type=click.IntRange(1, 9), default=1, show_default=True, help="Nodes in the one JVM.")(f)
    return f


def _spec(data: Path | None, port: int, nodes: int, heap: int = 0):
    from ..devcluster import ClusterSpec, default_data_dir
    return ClusterSpec(data_dir=(data or default_data_dir()).resolve(), port=port, nodes=nodes, heap_mb=heap)


def _external_url() -> str | None:
    return os.environ.get("LRR_ES_URL") or os.environ.get("ES_URL")


@click.group("dev-cluster")
def dev_cluster() -> None:
    """A real local Elasticsearch 7.10.2 (from Maven Central) for development and tests.

    \b
    Ports: node i of --nodes N serves HTTP on --port P + i - 1 and transport
    on P + 100 + i - 1. P is 1024-9299 (the runner refuses HTTP ports above
    9299); default 9200, so transport 9300. The test suite uses 9250 (or
    $LRR_TEST_PORT), 9270-9283 for its own clusters and 9420 for 8.x.
    """


@dev_cluster.command("start")
@_cluster_options
@click.option("--heap", type=int, default=0, help="JVM heap in MB (default 1024, +512 per extra node).")
@click.option("--timeout", type=float, default=180, show_default=True, help="Seconds to wait for health.")
def dev_cluster_start(data, port, nodes, heap, timeout) -> None:
    """Start the node(s) and wait until the cluster is healthy."""
    if _external_url():
        click.echo(f"ES_URL is set ({_external_url()}): lrr-es uses that cluster; no local node started.")
        return
    from ..devcluster import start
    result = start(_spec(data, port, nodes, heap), timeout=timeout, echo=click.echo)
    health = result.health or {}
    click.echo(f"{result.message}: {result.url} status={health.get('status')} nodes={health.get('number_of_nodes')}")


@dev_cluster.command("stop")
@_cluster_options
def dev_cluster_stop(data, port, nodes) -> None:
    """Stop the node(s) cleanly; data stays in the data directory."""
    from ..devcluster import stop
    click.echo(stop(_spec(data, port, nodes)).message)


@dev_cluster.command("status")
@_cluster_options
def dev_cluster_status(data, port, nodes) -> None:
    """Say whether the local cluster runs, and its health. Exit code 3 when it does not run."""
    if _external_url():
        click.echo(f"ES_URL is set ({_external_url()}): lrr-es uses that cluster.")
        return
    from ..devcluster import status
    result = status(_spec(data, port, nodes))
    health = result.health or {}
    click.echo(f"{result.message}: {result.url}" + (f" pid={result.pid} status={health.get('status')} "
                                                      f"nodes={health.get('number_of_nodes')}" if result.running else ""))
    if not result.running:
        sys.exit(3)


@dev_cluster.command("logs")
@_cluster_options
@click.option("-n", "--lines", type=int, default=50, show_default=True)
def dev_cluster_logs(data, port, nodes, lines) -> None:
    """Print the last lines of the node log."""
    from ..devcluster import logs
    click.echo(logs(_spec(data, port, nodes), lines))


@click.command("demo")
@click.option("--port", type=int, default=9200, show_default=True, help="HTTP port of the embedded node, 1024-9299 (transport: port+100).")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=None, help="Data dir of the embedded node.")
@click.option("--songs", type=int, default=2000, show_default=True, help="Songs in the sample catalog.")
@click.option("--stop/--keep-running", default=False, help="Stop the embedded node at the end (default: keep it).")
@click.pass_obj
def demo_cmd(obj, port, data, songs, stop) -> None:
    """Start an embedded node, migrate, load the sample catalog and run a few searches."""
    from ..demo import run_demo
    run_demo(obj.config, port=port, data=data, songs=songs, stop_after=stop, echo=click.echo)


COMMANDS = [dev_cluster, demo_cmd]
