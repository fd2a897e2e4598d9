"""``lrr-es search``: one search from the command line, unlogged unless asked (what-if, evaluation)."""
from __future__ import annotations

import json

import click


@click.command("search")
@click.argument("text")
@click.option("--index", "alias", default="music", show_default=True, help="Configured index (alias) to search.")
@click.option("--size", type=click.IntRange(1, 1000), default=10, show_default=True, help="Hits to print.")
@click.option("--baseline", is_flag=True,
              help="Elasticsearch's BM25 over the text roles only: the lexical strategy, no ranker "
                   "(LrrEngine.baseline).")
@click.option("--no-ranker", is_flag=True, help="Serve the plan's fused (RRF) order, not the live ranker's.")
@click.option("--locale", default=None, help="The caller's locale (context), e.g. pt-BR.")
@click.option("--log", "logged", is_flag=True,
              help="Log the search as a decision like an app's (default: no trace, nothing for the learners).")
@click.option("--json", "as_json", is_flag=True, help="Print the Elasticsearch-shaped response as JSON.")
@click.pass_obj
def search_cmd(obj, text, alias, size, baseline, no_ranker, locale, logged, as_json) -> None:
    """Search TEXT through the engine and print the plan and the hits (with the strategies that found them)."""
    from ..engine import LrrEngine
    config = obj.config
    engine = LrrEngine(obj.es(), config, decisions=logged)
    try:
        context = {"locale": locale} if locale else None
        if baseline:
            result = engine.baseline(alias, text, size=size)
        else:
            result = engine.search(alias, text, size=size, context=context, log=logged, rank=not no_ranker)
    finally:
        engine.close()
    if as_json:
        click.echo(json.dumps(result.to_response(), default=str, indent=1))
        return
    click.echo(f"{result.pool_size} candidates, plan: " + ", ".join(f"{i.strategy}:{i.quota}" for i in result.plan)
               + f"; order: {result.versions['ranker']}")
    for name, why in {**result.failed, **result.skipped}.items():
        click.echo(f"  {name}: {why}")
    title = config.index(alias).fields.title[0]
    for rank, hit in enumerate(result.hits, 1):
        found = " ".join(f"{n}#{p['rank']}" for n, p in hit["lrr"]["strategies"].items())
        name = (hit.get("_source") or {}).get(title, "")
        click.echo(f"{rank:3d}. {hit['_score']:9.4f}  {hit['_id']}  {name}  <- {found}")


COMMANDS = (search_cmd,)
