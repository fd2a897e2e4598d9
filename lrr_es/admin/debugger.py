"""Query debugger: one search through the engine, every stage shown.

The plan and its propensities, each strategy's candidates with rank and score, the merged pool with
provenance, each candidate's ranking features, the final order next to the RRF order; a plan can be
typed by hand, and a second plan runs beside the first to compare. The search is the engine's own
(``LrrEngine.search``); it logs no decision, so debugging never becomes training data. A GET form:
it changes nothing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from flask import Blueprint, render_template, request

from ..decide import plan_from_text
from ..errors import QueryError
from ..respond import SearchResult
from .services import chosen_index, panel

bp = Blueprint("debugger", __name__, url_prefix="/debugger")
FEATURE_ROWS = 20  # candidates whose features the page lists


@dataclass(frozen=True)
class PoolRow:
    rank: int
    rrf_rank: int
    doc_id: str
    title: str
    found: str  # "lexical #3 (12.10), memory #1 (0.98)"
    fused: float
    score: float


def _json_field(name: str, text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise QueryError(f"{name} is not valid JSON: {exc}") from None


def _label(source: dict, fields: Sequence[str]) -> str:
    for field in fields:
        value = source.get(field)
        if value:
            return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return ""


def pool_rows(result: SearchResult, title_fields: Sequence[str], artist_fields: Sequence[str]) -> list[PoolRow]:
    """The merged pool in served order, with each candidate's place in the RRF order (pure)."""
    by_rrf = sorted(range(len(result.pool)), key=lambda i: (-result.pool[i].fused, i))
    rrf_rank = {result.pool[i].id: n for n, i in enumerate(by_rrf, 1)}
    scores = result.pool_scores or tuple(c.fused for c in result.pool)
    rows = []
    for n, (c, score) in enumerate(zip(result.pool, scores), 1):
        title = _label(c.source, title_fields)
        artist = _label(c.source, artist_fields)
        found = ", ".join(f"{p.strategy} #{p.rank} ({p.score:.2f})" for p in c.provenance)
        rows.append(PoolRow(n, rrf_rank[c.id], c.id, f"{title} — {artist}" if artist else title, found, c.fused, score))
    return rows


def feature_rows(result: SearchResult, limit: int = FEATURE_ROWS) -> tuple[tuple[str, ...], list[tuple[str, list[float]]]]:
    """(feature names, [(doc id, values)]) of the first ``limit`` candidates, when features were computed."""
    if result.features is None or not result.feature_schema:
        return (), []
    rows = [(c.id, [float(v) for v in values]) for c, values in zip(result.pool[:limit], result.features[:limit])]
    return tuple(result.feature_schema), rows


def _search(index: str, text: str, plan_text: str, filters: Any, context: Any, seed: int) -> SearchResult:
    p = panel()
    plan = plan_from_text(plan_text, p.config.retrieval.timeout_ms) if plan_text.strip() else None
    fields = p.config.index(index).fields
    return p.engine.search(index, text, filters=filters, size=10, plan=plan, seed=seed, context=context,
                           source=list(dict.fromkeys((*fields.title, *fields.artist))))


@bp.route("/")
def page():
    index = chosen_index()
    form = {k: request.args.get(k, "") for k in ("q", "plan", "plan_b", "filters", "context")}
    form["seed"] = request.args.get("seed", "7")
    runs = []
    if form["q"].strip():
        if not form["seed"].isdigit():
            raise QueryError(f"seed must be a whole number, got {form['seed'][:40]!r}")
        filters, context = _json_field("filters", form["filters"]), _json_field("context", form["context"])
        fields = panel().config.index(index).fields
        for plan_text in [form["plan"]] + ([form["plan_b"]] if form["plan_b"].strip() else []):
            result = _search(index, form["q"], plan_text, filters, context, int(form["seed"]))
            runs.append({"plan_text": plan_text or "chosen by the policy", "result": result,
                         "pool": pool_rows(result, fields.title, fields.artist), "features": feature_rows(result)})
    return render_template("debugger.html", index=index, form=form, runs=runs)
