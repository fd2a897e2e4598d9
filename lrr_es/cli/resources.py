"""``lrr-es gazetteer`` and ``lrr-es semantic``: the models strategies need, built from an index into lrr-models."""
from __future__ import annotations

import click

from ..errors import LrrError


@click.group("gazetteer")
def gazetteer_cmd() -> None:
    """Query understanding's gazetteer: the index's own genres, decades, artists... (in lrr-models)."""


@gazetteer_cmd.command("rebuild")
@click.option("--index", "alias", default="music", show_default=True, help="Configured index to read values from.")
@click.pass_obj
def gazetteer_rebuild(obj, alias) -> None:
    """Read every value of the role fields and store the gazetteer as a new version."""
    from ..qu.store import rebuild_gazetteer
    click.echo(rebuild_gazetteer(obj.es(), obj.config.index(alias)).summary())


@gazetteer_cmd.command("show")
@click.option("--index", "alias", default="music", show_default=True, help="Configured index whose gazetteer to use.")
@click.option("--query", "text", required=True, help="The query text to interpret.")
@click.option("-k", "k", type=click.IntRange(2, 50), default=5, show_default=True, help="Readings to show.")
@click.pass_obj
def gazetteer_show(obj, alias, text, k) -> None:
    """Print the interpretations of a query under the stored gazetteer."""
    from ..qu import interpret
    from ..qu.store import load_gazetteer
    obj.config.index(alias)
    gazetteer = load_gazetteer(obj.es(), alias)
    if gazetteer is None:
        raise LrrError(f"no gazetteer stored for {alias!r}: run `lrr-es gazetteer rebuild --index {alias}` first")
    click.echo(f"gazetteer-{alias} version {gazetteer.version}")
    for reading in interpret(text, gazetteer, k):
        slots = ", ".join(f"{s.role}={s.value!r} ({s.matched_text!r}, {s.score:.3f})" for s in reading.slots) or "-"
        click.echo(f"{reading.likelihood:7.3f}  slots: {slots}  rest: {reading.rest!r}")


@click.group("semantic")
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
    from ..semantic import build_semantic
    build_semantic(obj.es(), obj.config.index(alias), dims=dims, clusters=clusters, seed=seed,
                   progress=not no_progress, echo=click.echo)


COMMANDS = [gazetteer_cmd, semantic_cmd]
