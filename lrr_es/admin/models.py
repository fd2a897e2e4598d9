"""Models: the ranker registry of an index (lrr_es.rank.registry, as ``lrr-es models``): versions,
status, holdout NDCG of each version next to the live model and RRF, feature importance, training
window; train, promote and roll back (recorded in the audit trail).

Training runs ``lrr_es.learn.ranker.train``, what ``lrr-es train`` runs, in a background thread
(lrr_es.admin.jobs): it reads the whole window of logs and fits XGBoost, minutes on real traffic,
longer than a request should hold a browser and a server thread. The page shows its state and output
and reloads itself until it ends; one training per index runs at a time."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..audit import audited, require_audit_index
from ..errors import QueryError
from ..learn.ranker import report_lines, train
from ..rank.registry import get_model, list_models, live_model, load_ranker, promote, rollback
from . import charts
from .overview import svg
from .jobs import Job
from .services import actor, chosen_index, panel, version_arg

bp = Blueprint("models", __name__, url_prefix="/models")
METRICS = (("ndcg@10", "new model"), ("live_ndcg@10", "live model then"), ("rrf_ndcg@10", "RRF"))
TOP_FEATURES = 15
TREES = (20, 1000, 200)  # boosting rounds from the page: least, most, default (lrr-es train --trees)


def _describe(info) -> str:
    return f"v{info.version} {info.status}"


@bp.route("/")
def page():
    index = chosen_index()
    es = panel().es
    models, live = list_models(es, index), live_model(es, index)
    chosen = version_arg() or (live.version if live else (models[0].version if models else None))
    return render_template("models.html", index=index, models=models, live=live, chosen=chosen,
                           info=get_model(es, index, chosen) if chosen else None, metrics=METRICS,
                           job=panel().jobs.get("train", index), trees=TREES)


@bp.route("/chart/ndcg.svg")
def ndcg_chart():
    index = chosen_index()
    models = sorted(list_models(panel().es, index), key=lambda m: m.version)
    labels = [f"v{m.version} ({m.status})" for m in models]
    series = {label: [float(m.metrics.get(key, 0.0) or 0.0) for m in models] for key, label in METRICS
              if any(key in m.metrics for m in models)}
    return svg(charts.bar_chart(f"{index}: holdout NDCG@10 by version (each judged on its own holdout)", labels, series,
                                xlabel="NDCG@10", empty="no ranker trained yet (lrr-es train)"))


@bp.route("/chart/importance.svg")
def importance_chart():
    index = chosen_index()
    version = version_arg()
    if version is None:
        return svg(charts.empty_chart("feature importance", "no ranker chosen"))
    shares = load_ranker(panel().es, index, version).importance_shares()[:TOP_FEATURES]
    return svg(charts.bar_chart(f"{index} ranker v{version}: feature importance (share of total gain)",
                                [n for n, _ in shares], {"share": [v for _, v in shares]}, percent=True))


@bp.route("/promote", methods=["POST"])
def promote_version():
    index, version = chosen_index(), version_arg()
    if version is None:
        raise QueryError("which version to promote?")
    es = panel().es
    info = audited(es, actor(), "ranker.promote", index, f"v{version}", {"version": version},
                   lambda: promote(es, index, version), _describe)
    flash(f"{index}: ranker v{info.version} is live", "info")
    return redirect(url_for("models.page", index=index, version=info.version))


@bp.route("/rollback", methods=["POST"])
def rollback_live():
    index = chosen_index()
    es = panel().es
    info = audited(es, actor(), "ranker.rollback", index, "live", {}, lambda: rollback(es, index), _describe)
    flash(f"{index}: rolled back to ranker v{info.version}", "info")
    return redirect(url_for("models.page", index=index, version=info.version))


@bp.route("/train", methods=["POST"])
def train_new():
    """Start training a ranker in the background (as ``lrr-es train``); the page shows how it goes."""
    index, p = chosen_index(), panel()
    trees = _trees(request.form.get("trees", ""))
    promote_better = request.form.get("promote") == "1"
    require_audit_index(p.es)  # refuse now, not in the thread, when the change could not be recorded
    job = Job("train", index, actor().user, {"trees": trees, "promote": promote_better})
    who = actor()

    def work(job: Job) -> None:
        report = audited(p.es, who, "ranker.train", index, "new version", job.params,
                         lambda: train(p.es, p.config, index, params={"n_estimators": trees}, promote=promote_better,
                                       echo=job.echo),
                         lambda r: f"v{r.version} {'promoted' if r.promoted else 'candidate'}")
        job.lines.extend(report_lines(report))

    running, started = p.jobs.start(job, work)
    if started:
        flash(f"{index}: training started ({trees} trees); this page shows how it goes", "info")
    else:
        flash(f"{index}: a training started by {running.user} is still running; wait for it to end", "error")
    return redirect(url_for("models.page", index=index))


def _trees(text: str) -> int:
    least, most, default = TREES
    text = text.strip()
    if not text:
        return default
    if not text.isdigit() or not least <= int(text) <= most:
        raise QueryError(f"trees must be a whole number from {least} to {most}, got {text[:40]!r}")
    return int(text)
