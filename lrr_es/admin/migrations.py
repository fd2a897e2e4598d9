"""Migrations: templates and stored scripts installed vs shipped, the index versions behind each alias
with their counts, the dry-run plan; migrate and roll back (lrr_es.migrate, as ``lrr-es migrate``)
behind a confirmation (the alias typed again), recorded in the audit trail."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..audit import audited
from ..errors import QueryError
from ..migrate import index_versions, installed_vs_shipped, migrate, rollback
from .services import actor, chosen_index, panel

bp = Blueprint("migrations", __name__, url_prefix="/migrations")


def _confirmed(index: str) -> None:
    if request.form.get("confirm", "").strip() != index:
        raise QueryError(f"not confirmed: type the index name {index!r} in the confirmation box to go ahead")


@bp.route("/")
def page():
    index = chosen_index()
    p = panel()
    plan_lines: list[str] = []
    migrate(p.es, p.config, index, dry_run=True, echo=plan_lines.append)
    return render_template("migrations.html", index=index, installed=installed_vs_shipped(p.es, p.config),
                           versions=index_versions(p.es, index), plan_lines=plan_lines)


@bp.route("/apply", methods=["POST"])
def apply():
    index = chosen_index()
    _confirmed(index)
    p = panel()
    lines: list[str] = []
    reindex = request.form.get("reindex") == "1"
    plans = audited(p.es, actor(), "migrate.apply", index, index, {"reindex": reindex},
                    lambda: migrate(p.es, p.config, index, force_reindex=reindex, progress=False, echo=lines.append),
                    lambda plans: "; ".join(pl.describe().splitlines()[0] for pl in plans))
    flash(f"{index}: {', '.join(pl.action for pl in plans)}. " + " / ".join(lines[-3:]), "info")
    return redirect(url_for("migrations.page", index=index))


@bp.route("/rollback", methods=["POST"])
def rollback_alias():
    index = chosen_index()
    _confirmed(index)
    es = panel().es
    current, previous = audited(es, actor(), "migrate.rollback", index, index, {},
                                lambda: rollback(es, index, echo=lambda _: None), lambda moved: " -> ".join(moved))
    flash(f"{index}: rolled back {current} -> {previous} ({current} kept, write-blocked)", "info")
    return redirect(url_for("migrations.page", index=index))
