"""``lrr-es models``: the ranker registry in lrr-models (list, promote, rollback), over lrr_es.rank.registry."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import click


@click.group("models")
def models_cmd() -> None:
    """Learned rankers stored in lrr-models: versions, status, metrics; promote and roll back."""


def _alias_option(f):
    return click.option("--index", "alias", default="music", show_default=True, help="Configured index (alias).")(f)


@models_cmd.command("list")
@_alias_option
@click.pass_obj
def models_list(obj, alias) -> None:
    """Print every stored ranker version of the index, newest first."""
    from .rank.registry import list_models
    obj.config.index(alias)
    models = list_models(obj.es(), alias)
    if not models:
        click.echo(f"no ranker stored for {alias}: serving ranks with RRF")
    for m in models:
        created = datetime.fromtimestamp(m.created_at / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")
        click.echo(f"v{m.version:<4} {m.status:<9} {created}  {m.feature_schema}  "
                   f"{json.dumps(dict(m.metrics), sort_keys=True)}")


@models_cmd.command("promote")
@_alias_option
@click.argument("version", type=click.IntRange(1))
@click.pass_obj
def models_promote(obj, alias, version) -> None:
    """Make VERSION the live ranker (the live one is retired); serving picks it up at its next refresh."""
    from .rank.registry import promote
    obj.config.index(alias)
    info = promote(obj.es(), alias, version)
    click.echo(f"{alias}: ranker v{info.version} is live")


@models_cmd.command("rollback")
@_alias_option
@click.pass_obj
def models_rollback(obj, alias) -> None:
    """Retire the live ranker and make the one live before it live again."""
    from .rank.registry import rollback
    obj.config.index(alias)
    info = rollback(obj.es(), alias)
    click.echo(f"{alias}: rolled back to ranker v{info.version}")
