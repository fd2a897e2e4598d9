"""The ``lrr-es`` command line: thin click commands over importable functions."""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from . import __version__
from .config import Config, load_config
from .errors import LrrError

log = logging.getLogger("lrr_es")


class Context:
    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def es(self):
        from .es import connect
        return connect(self.config.elasticsearch.url, self.config.elasticsearch.timeout)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="LRR_CONFIG",
              help="YAML configuration file (default: built-in settings for one index 'music').")
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.version_option(__version__, prog_name="lrr-es")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """lrr-es: learning to rank and retrieve on Elasticsearch.

    Every command talks to the cluster at elasticsearch.url in the config, or at $ES_URL.
    """
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if verbose < 2:  # the client logs every expected 404 (a template or alias not there yet) as a warning
        for client_logger in ("elasticsearch", "elastic_transport"):  # 7.17, 8.x
            logging.getLogger(client_logger).setLevel(logging.ERROR)
    ctx.obj = Context(config_path)


# --- dev-cluster ------------------------------------------------------------------------------

def _cluster_options(f):
    f = click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Data directory (default: $LRR_HOME/dev-cluster, i.e. ~/.local/share/lrr-es/dev-cluster).")(f)
    f = click.option("--port", type=int, default=9200, show_default=True, help="HTTP port of node 1 (node i: port+i-1).")(f)
    f = click.option("--nodes", type=click.IntRange(1, 9), default=1, show_default=True, help="Nodes in the one JVM.")(f)
    return f


def _spec(data: Path | None, port: int, nodes: int, heap: int = 0):
    from .devcluster import ClusterSpec, default_data_dir
    return ClusterSpec(data_dir=(data or default_data_dir()).resolve(), port=port, nodes=nodes, heap_mb=heap)


def _external_url() -> str | None:
    return os.environ.get("LRR_ES_URL") or os.environ.get("ES_URL")


@cli.group("dev-cluster")
def dev_cluster() -> None:
    """A real local Elasticsearch 7.10.2 (from Maven Central) for development and tests."""


@dev_cluster.command("start")
@_cluster_options
@click.option("--heap", type=int, default=0, help="JVM heap in MB (default 1024, +512 per extra node).")
@click.option("--timeout", type=float, default=180, show_default=True, help="Seconds to wait for health.")
def dev_cluster_start(data, port, nodes, heap, timeout) -> None:
    """Start the node(s) and wait until the cluster is healthy."""
    if _external_url():
        click.echo(f"ES_URL is set ({_external_url()}): lrr-es uses that cluster; no local node started.")
        return
    from .devcluster import start
    result = start(_spec(data, port, nodes, heap), timeout=timeout, echo=click.echo)
    health = result.health or {}
    click.echo(f"{result.message}: {result.url} status={health.get('status')} nodes={health.get('number_of_nodes')}")


@dev_cluster.command("stop")
@_cluster_options
def dev_cluster_stop(data, port, nodes) -> None:
    """Stop the node(s) cleanly; data stays in the data directory."""
    from .devcluster import stop
    click.echo(stop(_spec(data, port, nodes)).message)


@dev_cluster.command("status")
@_cluster_options
def dev_cluster_status(data, port, nodes) -> None:
    """Say whether the local cluster runs, and its health. Exit code 3 when it does not run."""
    if _external_url():
        click.echo(f"ES_URL is set ({_external_url()}): lrr-es uses that cluster.")
        return
    from .devcluster import status
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
    from .devcluster import logs
    click.echo(logs(_spec(data, port, nodes), lines))


# --- migrate ----------------------------------------------------------------------------------

@cli.group("migrate", invoke_without_command=True)
@click.option("--index", "alias", default=None, help="Only this configured index (default: all).")
@click.option("--dry-run", is_flag=True, help="Print the plan, change nothing.")
@click.option("--reindex", "force", is_flag=True, help="Reindex into a new version even when the schema is current.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_context
def migrate_cmd(ctx, alias, dry_run, force, no_progress) -> None:
    """Install templates and stored scripts; create, adopt or reindex catalog indices behind their alias."""
    if ctx.invoked_subcommand:
        return
    from .migrate import migrate
    migrate(ctx.obj.es(), ctx.obj.config, alias, dry_run=dry_run, force_reindex=force,
            progress=not no_progress, echo=click.echo)


@migrate_cmd.command("rollback")
@click.option("--index", "alias", required=True, help="The alias to point back at its previous version.")
@click.pass_obj
def migrate_rollback(obj, alias) -> None:
    """Point the alias back at the previous index version (the current one is kept)."""
    from .migrate import rollback
    rollback(obj.es(), alias, echo=click.echo)


# --- load -------------------------------------------------------------------------------------

@cli.command("load")
@click.argument("path", required=False)
@click.option("--index", "alias", default="music", show_default=True, help="Configured index to load into.")
@click.option("--format", "fmt", type=click.Choice(["musicoset", "jsonl", "csv", "tsv", "sample"]), default="jsonl",
              show_default=True, help="Input layout; 'sample' generates the built-in synthetic catalog (no PATH).")
@click.option("--map", "mapping", multiple=True, metavar="SRC=DST", help="Rename a source field (repeatable).")
@click.option("--id-field", default="id", show_default=True, help="Source field holding the document id.")
@click.option("--sample-size", type=int, default=2000, show_default=True, help="Songs in the sample catalog.")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the sample catalog.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_obj
def load_cmd(obj, path, alias, fmt, mapping, id_field, sample_size, seed, no_progress) -> None:
    """Bulk load a catalog (JSONL, CSV/TSV, the MusicOSet layout, or the built-in sample)."""
    from .catalog import read_catalog, sample_rows
    from .load import load_rows
    index = obj.config.index(alias)
    if fmt == "sample":
        rows, total = sample_rows(sample_size, seed), None
    else:
        if not path:
            raise click.UsageError(f"--format {fmt} needs a PATH")
        options = {} if fmt == "musicoset" else {"rename": dict(_pair(m) for m in mapping), "id_field": id_field}
        rows, total = read_catalog(path, fmt, **options), None
    report = load_rows(obj.es(), index, rows, total=total, progress=not no_progress)
    click.echo(report.summary())


def _pair(text: str, option: str = "--map") -> tuple[str, str]:
    src, sep, dst = text.partition("=")
    if not sep or not src or not dst:
        raise click.BadParameter(f"{text!r} is not {'SRC=DST' if option == '--map' else 'NAME=VALUE'}", param_hint=option)
    return src, dst


# --- demo -------------------------------------------------------------------------------------

@cli.command("demo")
@click.option("--port", type=int, default=9200, show_default=True, help="HTTP port of the embedded node.")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=None, help="Data dir of the embedded node.")
@click.option("--songs", type=int, default=2000, show_default=True, help="Songs in the sample catalog.")
@click.option("--stop/--keep-running", default=False, help="Stop the embedded node at the end (default: keep it).")
@click.pass_obj
def demo_cmd(obj, port, data, songs, stop) -> None:
    """Start an embedded node, migrate, load the sample catalog and run a few searches."""
    from .demo import run_demo
    run_demo(obj.config, port=port, data=data, songs=songs, stop_after=stop, echo=click.echo)


# --- simulate ---------------------------------------------------------------------------------

@cli.group("simulate")
def simulate_group() -> None:
    """Simulated users: query sets with graded relevance for benchmarks."""


@simulate_group.command("queries")
@click.option("--source", default="sample", show_default=True, metavar="musicoset|sample|PATH",
              help="Catalog: the synthetic sample, MusicOSet ($LRR_MUSICOSET), or a directory/.jsonl/.csv/.tsv path.")
@click.option("--n", "n", type=click.IntRange(min=0), default=1000, show_default=True, help="Number of queries.")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the query set.")
@click.option("--mix", "mix", multiple=True, metavar="INTENT=WEIGHT",
              help="Intent weight (repeatable; intents not named get 0). Default: the built-in mix.")
@click.option("--sample-size", type=int, default=2000, show_default=True, help="Songs in the sample catalog.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Output JSON Lines file.")
def simulate_queries_cmd(source, n, seed, mix, sample_size, out) -> None:
    """Generate a seeded query set over a catalog and write it as JSON Lines."""
    import time
    from .simulate import generate_queries, intent_counts, read_source, save_queries
    weights = {name: _weight(value) for name, value in (_pair(m, "--mix") for m in mix)} or None
    catalog = read_source(source, sample_size=sample_size)
    started = time.perf_counter()
    queries = generate_queries(catalog.docs, n, seed, mix=weights)
    seconds = time.perf_counter() - started
    save_queries(out, queries)
    click.echo(f"{len(queries)} queries over {len(catalog.docs)} documents of {catalog.name} "
               f"({catalog.bad_rows} bad rows skipped) in {seconds:.1f}s -> {out}")
    for intent, count in intent_counts(queries).items():
        click.echo(f"  {intent:<20} {count:>7}  {count / max(len(queries), 1):6.1%}")


def _weight(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise click.BadParameter(f"weight {text!r} is not a number", param_hint="--mix") from None


# --- gazetteer --------------------------------------------------------------------------------

@cli.group("gazetteer")
def gazetteer_cmd() -> None:
    """Query understanding's gazetteer: the index's own genres, decades, artists... (in lrr-models)."""


@gazetteer_cmd.command("rebuild")
@click.option("--index", "alias", default="music", show_default=True, help="Configured index to read values from.")
@click.pass_obj
def gazetteer_rebuild(obj, alias) -> None:
    """Read every value of the role fields and store the gazetteer as a new version."""
    from .qu.store import rebuild_gazetteer
    click.echo(rebuild_gazetteer(obj.es(), obj.config.index(alias)).summary())


@gazetteer_cmd.command("show")
@click.option("--index", "alias", default="music", show_default=True, help="Configured index whose gazetteer to use.")
@click.option("--query", "text", required=True, help="The query text to interpret.")
@click.option("-k", "k", type=click.IntRange(2, 50), default=5, show_default=True, help="Readings to show.")
@click.pass_obj
def gazetteer_show(obj, alias, text, k) -> None:
    """Print the interpretations of a query under the stored gazetteer."""
    from .qu import interpret
    from .qu.store import load_gazetteer
    obj.config.index(alias)
    gazetteer = load_gazetteer(obj.es(), alias)
    if gazetteer is None:
        raise LrrError(f"no gazetteer stored for {alias!r}: run `lrr-es gazetteer rebuild --index {alias}` first")
    click.echo(f"gazetteer-{alias} version {gazetteer.version}")
    for reading in interpret(text, gazetteer, k):
        slots = ", ".join(f"{s.role}={s.value!r} ({s.matched_text!r}, {s.score:.3f})" for s in reading.slots) or "-"
        click.echo(f"{reading.likelihood:7.3f}  slots: {slots}  rest: {reading.rest!r}")


# --- semantic ---------------------------------------------------------------------------------

@cli.group("semantic")
def semantic_cmd() -> None:
    """The semantic strategy's model: LSA embeddings of catalog text and coarse clusters."""


@semantic_cmd.command("build")
@click.option("--index", "alias", default="music", show_default=True, help="Configured index (alias) to embed.")
@click.option("--dims", type=click.IntRange(1, 100), default=64, show_default=True, help="Embedding dimensions.")
@click.option("--clusters", type=click.IntRange(1), default=None, help="Coarse clusters (default: about 1.5 sqrt(documents)).")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the SVD and k-means.")
@click.option("--no-progress", is_flag=True, help="No progress bars.")
@click.pass_obj
def semantic_build(obj, alias, dims, clusters, seed, no_progress) -> None:
    """Fit the model over the alias, write each document's cluster and vector, store the model in lrr-models."""
    from .semantic import build_semantic
    build_semantic(obj.es(), obj.config.index(alias), dims=dims, clusters=clusters, seed=seed,
                   progress=not no_progress, echo=click.echo)


# --- q2e --------------------------------------------------------------------------------------

@cli.group("q2e")
def q2e_cmd() -> None:
    """The Q2E memory: inspect it and steer it by hand (pin, unpin, remove, decay)."""


def _q2e_target(f):
    f = click.option("--query", "text", required=True, help="The query text (its normalized key is used).")(f)
    f = click.option("--doc", "doc_id", required=True, help="The document id.")(f)
    f = click.option("--index", "alias", default="music", show_default=True, help="Configured index (alias).")(f)
    return f


@q2e_cmd.command("show")
@click.option("--index", "alias", default="music", show_default=True, help="Configured index (alias).")
@click.option("--doc", "doc_id", default=None, help="Show every key of this document.")
@click.option("--query", "text", default=None, help="Show the documents holding this query's key.")
@click.option("--size", type=click.IntRange(1, 1000), default=20, show_default=True, help="Documents to show (--query).")
@click.pass_obj
def q2e_show(obj, alias, doc_id, text, size) -> None:
    """Print a document's keys, or the documents remembered for a query, with scores."""
    from .feedback import editorial
    obj.config.index(alias)
    if (doc_id is None) == (text is None):
        raise click.UsageError("give exactly one of --doc and --query")
    if doc_id is not None:
        entries = editorial.show_doc(obj.es(), alias, doc_id)
        click.echo(f"{alias}/{doc_id}: {len(entries)} keys")
    else:
        entries = editorial.show_query(obj.es(), alias, text, size)
        click.echo(f"key {editorial.query_key(text)}: {len(entries)} documents")
    for e in entries:
        marks = ",".join(m for m, on in (("pinned", e.pinned), ("seeded", e.seeded)) if on)
        click.echo(f"{e.score:10.4f}  {e.doc_id if text is not None else e.key}" + (f"  [{marks}]" if marks else ""))


@q2e_cmd.command("pin")
@_q2e_target
@click.option("--score", type=float, default=None, help="Score to hold (default: the current one, or 1.0).")
@click.pass_obj
def q2e_pin(obj, alias, doc_id, text, score) -> None:
    """Pin a query's key on a document: it no longer decays, moves or gets evicted."""
    from .feedback import editorial
    obj.config.index(alias)
    click.echo(editorial.pin(obj.es(), alias, doc_id, text, score))


@q2e_cmd.command("unpin")
@_q2e_target
@click.pass_obj
def q2e_unpin(obj, alias, doc_id, text) -> None:
    """Let a pinned key move and decay again."""
    from .feedback import editorial
    obj.config.index(alias)
    click.echo(editorial.unpin(obj.es(), alias, doc_id, text))


@q2e_cmd.command("remove")
@_q2e_target
@click.pass_obj
def q2e_remove(obj, alias, doc_id, text) -> None:
    """Remove a query's key from a document."""
    from .feedback import editorial
    obj.config.index(alias)
    click.echo(editorial.remove(obj.es(), alias, doc_id, text))


@q2e_cmd.command("decay")
@click.option("--index", "alias", default="music", show_default=True, help="Configured index (alias).")
@click.option("--factor", type=float, default=0.5, show_default=True, help="Multiply unpinned scores by this (0..1].")
@click.pass_obj
def q2e_decay(obj, alias, factor) -> None:
    """Decay every unpinned Q2E score of an index at once."""
    from .feedback import editorial
    obj.config.index(alias)
    click.echo(f"{editorial.decay(obj.es(), alias, factor)} documents updated")


# --- learn, evaluate-policy (lrr_es/cli_learn.py) ------------------------------------------------

from .cli_learn import evaluate_policy_cmd, learn_cmd  # noqa: E402 - registered on the group just built
from .cli_simulate import simulate_traffic_cmd  # noqa: E402

simulate_group.add_command(simulate_traffic_cmd)

cli.add_command(learn_cmd)
cli.add_command(evaluate_policy_cmd)


def _register() -> None:
    from .cli_models import models_cmd, train_cmd
    cli.add_command(models_cmd)
    cli.add_command(train_cmd)


_register()


def main() -> None:
    try:
        cli(standalone_mode=True)
    except LrrError as exc:
        click.echo(f"lrr-es: error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
