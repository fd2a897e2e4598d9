"""``lrr-es simulate``: simulated users: query sets with graded relevance, and traffic through the engine."""
from __future__ import annotations

from pathlib import Path

import click

from .common import pair


@click.group("simulate")
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
    from ..simulate import generate_queries, intent_counts, read_source, save_queries
    weights = {name: _weight(value) for name, value in (pair(m, "--mix") for m in mix)} or None
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


@simulate_group.command("traffic")
@click.option("--index", "alias", default="music", show_default=True, help="Configured index (alias) to search.")
@click.option("--source", default="sample", show_default=True, metavar="musicoset|sample|PATH",
              help="The catalog loaded into the index (queries and relevance come from it; its ids must match).")
@click.option("--sample-size", type=int, default=2000, show_default=True, help="Songs of the sample catalog.")
@click.option("--queries", "n_queries", type=click.IntRange(1), default=500, show_default=True,
              help="Distinct generated queries the users draw from.")
@click.option("--searches", type=click.IntRange(1), default=1000, show_default=True, help="Simulated searches.")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of queries, users and clicks.")
@click.option("--cascade", is_flag=True, help="Cascade click model instead of the position-based one.")
@click.option("--no-feedback", is_flag=True, help="Search only; send no feedback.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_obj
def simulate_traffic_cmd(obj, alias, source, sample_size, n_queries, searches, seed, cascade, no_feedback,
                         no_progress) -> None:
    """Users with intents (known items with typos, artists, genres...) search, react and give feedback."""
    from ..engine import LrrEngine
    from ..simulate import generate_queries, read_source
    from ..simulate.clicks import ClickModel
    from ..simulate.traffic import run_traffic, summarize
    obj.config.index(alias)
    catalog = read_source(source, sample_size=sample_size)
    queries = generate_queries(catalog.docs, n_queries, seed)
    engine = LrrEngine(obj.es(), obj.config)
    try:
        send = (lambda *_: None) if no_feedback else None
        outcomes = run_traffic(engine, alias, queries, searches, ClickModel(cascade=cascade), seed=seed, send=send,
                               progress=not no_progress)
    finally:
        engine.close()
    for line in summarize(outcomes).lines():
        click.echo(line)
    if not no_feedback:
        click.echo(f"feedback written; run `lrr-es learn --index {alias}` to update the bandit")


COMMANDS = [simulate_group]
