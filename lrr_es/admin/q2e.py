"""Q2E explorer: the documents remembered for a query key, one document's keys, and editorial pin,
unpin and remove (lrr_es.feedback.editorial, as ``lrr-es q2e``), each recorded in the audit trail."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..audit import recent_changes
from ..errors import QueryError
from ..feedback import editorial
from .services import actor, chosen_index, panel

bp = Blueprint("q2e", __name__, url_prefix="/q2e")


@bp.route("/")
def page():
    index = chosen_index()
    es = panel().es
    query, doc_id = request.args.get("query", "").strip(), request.args.get("doc", "").strip()
    key = editorial.query_key(query) if query else None
    by_query = editorial.show_query(es, index, query, 50) if query else None
    by_doc = editorial.show_doc(es, index, doc_id) if doc_id else None
    return render_template("q2e.html", index=index, query=query, key=key, doc_id=doc_id, by_query=by_query,
                           by_doc=by_doc, changes=recent_changes(es, index, 20))


@bp.route("/edit", methods=["POST"])
def edit():
    """Pin, unpin or remove one key (the ``key`` field, or the key of the ``query`` field) on one document."""
    index = chosen_index()
    form = request.form
    op, doc_id = form.get("op", ""), form.get("doc", "").strip()
    query, key = form.get("query") or None, form.get("key") or None
    if not doc_id:
        raise QueryError("a document id is needed")
    result = editorial.apply(panel().es, actor(), op, index, doc_id, query, _score(form.get("score", "")), key)
    shown = key or editorial.query_key(query or "")
    flash(f"{op} of the key {shown} on {doc_id}: {result}", "info")
    if form.get("back") == "doc":
        return redirect(url_for("q2e.page", index=index, doc=doc_id))
    return redirect(url_for("q2e.page", index=index, query=query or ""))


def _score(text: str) -> float | None:
    text = text.strip()
    try:
        return float(text) if text else None
    except ValueError:
        raise QueryError(f"score must be a number, got {text[:40]!r}") from None
