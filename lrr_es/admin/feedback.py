"""Feedback: recent searches with their events, orphan and capped events, ingestion lag and
throughput (lrr_es.insights over lrr-decisions and lrr-events)."""
from __future__ import annotations

from flask import Blueprint, render_template

from .. import insights
from . import charts
from .overview import svg
from .services import chosen_index, panel

bp = Blueprint("feedback", __name__, url_prefix="/feedback")
RECENT = 25


@bp.route("/")
def page():
    index = chosen_index()
    es = panel().es
    return render_template("feedback.html", index=index, flow=insights.feedback_flow(es, index),
                           searches=insights.recent_searches(es, index, RECENT))


@bp.route("/chart/events.svg")
def events_chart():
    index = chosen_index()
    flow = insights.feedback_flow(panel().es, index)
    return svg(charts.time_chart(f"{index}: feedback events per {flow.interval or 'bucket'}", list(flow.times),
                                 {"events": list(flow.events), "capped": list(flow.capped), "orphans": list(flow.orphans)},
                                 empty="no feedback received yet"))
