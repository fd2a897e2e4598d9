"""``lrr-es q2e``: inspect and steer the Q2E memory by hand (show, pin, unpin, remove, decay).

Pin, unpin and remove are recorded in the audit trail (lrr-audit) under the operating-system user.
"""
from __future__ import annotations

import click


@click.group("q2e")
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
    from ..feedback import editorial
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
    from ..feedback import editorial
    obj.config.index(alias)
    click.echo(editorial.apply(obj.es(), obj.actor, "pin", alias, doc_id, text, score))


@q2e_cmd.command("unpin")
@_q2e_target
@click.pass_obj
def q2e_unpin(obj, alias, doc_id, text) -> None:
    """Let a pinned key move and decay again."""
    from ..feedback import editorial
    obj.config.index(alias)
    click.echo(editorial.apply(obj.es(), obj.actor, "unpin", alias, doc_id, text))


@q2e_cmd.command("remove")
@_q2e_target
@click.pass_obj
def q2e_remove(obj, alias, doc_id, text) -> None:
    """Remove a query's key from a document."""
    from ..feedback import editorial
    obj.config.index(alias)
    click.echo(editorial.apply(obj.es(), obj.actor, "remove", alias, doc_id, text))


@q2e_cmd.command("decay")
@click.option("--index", "alias", default="music", show_default=True, help="Configured index (alias).")
@click.option("--factor", type=float, default=0.5, show_default=True, help="Multiply unpinned scores by this (0..1].")
@click.pass_obj
def q2e_decay(obj, alias, factor) -> None:
    """Decay every unpinned Q2E score of an index at once."""
    from ..feedback import editorial
    obj.config.index(alias)
    click.echo(f"{editorial.decay(obj.es(), alias, factor)} documents updated")


COMMANDS = [q2e_cmd]
