"""``lrr-es migrate`` and ``lrr-es load``: index templates, scripts and versioned catalog indices; bulk loading."""
from __future__ import annotations

import click

from .common import pair


@click.group("migrate", invoke_without_command=True)
@click.option("--index", "alias", default=None, help="Only this configured index (default: all).")
@click.option("--dry-run", is_flag=True, help="Print the plan, change nothing.")
@click.option("--reindex", "force", is_flag=True, help="Reindex into a new version even when the schema is current.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_context
def migrate_cmd(ctx, alias, dry_run, force, no_progress) -> None:
    """Install templates and stored scripts; create, adopt or reindex catalog indices behind their alias."""
    if ctx.invoked_subcommand:
        return
    from ..migrate import migrate
    migrate(ctx.obj.es(), ctx.obj.config, alias, dry_run=dry_run, force_reindex=force,
            progress=not no_progress, echo=click.echo)


@migrate_cmd.command("rollback")
@click.option("--index", "alias", required=True, help="The alias to point back at its previous version.")
@click.pass_obj
def migrate_rollback(obj, alias) -> None:
    """Point the alias back at the previous index version (the current one is kept)."""
    from ..migrate import rollback
    rollback(obj.es(), alias, echo=click.echo)


@click.command("load")
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
    from ..catalog import read_catalog, sample_rows
    from ..load import load_rows
    index = obj.config.index(alias)
    if fmt == "sample":
        rows, total = sample_rows(sample_size, seed), None
    else:
        if not path:
            raise click.UsageError(f"--format {fmt} needs a PATH")
        options = {} if fmt == "musicoset" else {"rename": dict(pair(m) for m in mapping), "id_field": id_field}
        rows, total = read_catalog(path, fmt, **options), None
    report = load_rows(obj.es(), index, rows, total=total, progress=not no_progress)
    click.echo(report.summary())


COMMANDS = [migrate_cmd, load_cmd]
