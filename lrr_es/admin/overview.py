"""Overview: per configured index, searches and engagement over time, latency, the versions that
serve, the client wrapper's pass-throughs by reason (every index: most reasons are about searches
lrr-es does not serve), and the health of the node and of the lrr-* indices. A time bucket without searches is a gap
in the share and per-search charts, not a zero."""
from __future__ import annotations

from flask import Blueprint, Response, render_template

from .. import insights
from ..bandit.store import policy_record
from ..rank.registry import live_model
from . import charts
from .services import chosen_index, panel

bp = Blueprint("overview", __name__)


def svg(body: bytes) -> Response:
    """A chart response (never cached: it shows the logs as they are now)."""
    return Response(body, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@bp.route("/")
def index():
    name = chosen_index()
    p = panel()
    traffic = insights.traffic(p.es, name, p.config.feedback.weights)
    cluster, system = insights.health(p.es)
    return render_template("overview.html", index=name, traffic=traffic, policy=policy_record(p.es, name),
                           ranker=live_model(p.es, name), cluster=cluster, system=system,
                           passed=insights.passthroughs(p.es))


@bp.route("/chart/traffic.svg")
def traffic_chart():
    name = chosen_index()
    t = insights.traffic(panel().es, name, panel().config.feedback.weights)
    times = [b.start_ms for b in t.buckets]
    return svg(charts.time_chart(f"{name}: searches per {t.interval or 'bucket'}", times,
                                 {"searches": [b.searches for b in t.buckets]}))


@bp.route("/chart/engaged.svg")
def engaged_chart():
    name = chosen_index()
    t = insights.traffic(panel().es, name, panel().config.feedback.weights)
    return svg(charts.time_chart(f"{name}: share of searches with positive feedback", [b.start_ms for b in t.buckets],
                                 {"engaged share": [b.engaged_share if b.searches else None for b in t.buckets]},
                                 percent=True))


@bp.route("/chart/latency.svg")
def latency_chart():
    name = chosen_index()
    t = insights.traffic(panel().es, name, panel().config.feedback.weights)
    return svg(charts.time_chart(f"{name}: search latency (engine, ms)", [b.start_ms for b in t.buckets],
                                 {"p50": [b.p50_ms for b in t.buckets], "p99": [b.p99_ms for b in t.buckets]},
                                 ylabel="ms"))


@bp.route("/chart/subsearches.svg")
def subsearches_chart():
    name = chosen_index()
    t = insights.traffic(panel().es, name, panel().config.feedback.weights)
    return svg(charts.time_chart(f"{name}: sub-searches per search", [b.start_ms for b in t.buckets],
                                 {"strategies in the plan": [b.subsearches_per_search if b.searches else None
                                                             for b in t.buckets]}))


@bp.route("/chart/passthrough.svg")
def passthrough_chart():
    passed = insights.passthroughs(panel().es)
    return svg(charts.time_chart(f"searches passed through to Elasticsearch per {passed.interval or 'bucket'}, by reason",
                                 list(passed.times), {r: list(v) for r, v in passed.by_reason.items()},
                                 empty="no pass-through recorded (LrrClient writes them to lrr-passthrough)"))
