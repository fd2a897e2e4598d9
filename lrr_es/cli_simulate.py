"""``lrr-es simulate traffic``: simulated users searching a loaded index through the engine.

Registered on the ``simulate`` group by lrr_es/cli.py (``obj`` is its Context: config and client).
"""
from __future__ import annotations

import click


@click.command("traffic")
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
    from .engine import LrrEngine
    from .simulate import generate_queries, read_source
    from .simulate.clicks import ClickModel
    from .simulate.traffic import run_traffic, summarize
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
