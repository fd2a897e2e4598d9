"""Bandit: the published policy (version, learner state, metrics), the policy versions that served,
each strategy's share of plans by context slice, and off-policy evaluation of a candidate policy on
the logged decisions (lrr_es.learn.evaluate_policy, as ``lrr-es evaluate-policy``), started from the page."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from .. import insights
from ..bandit.store import policy_record
from ..errors import QueryError
from ..learn import evaluate_policy
from ..learn.evaluate import CANDIDATES
from . import charts
from .overview import svg
from .services import chosen_index, panel

bp = Blueprint("bandit", __name__, url_prefix="/bandit")


def _page(index: str, evaluation=None, candidate: str = "published"):
    es = panel().es
    searches, shares = insights.plan_shares(es, index)
    return render_template("bandit.html", index=index, policy=policy_record(es, index), searches=searches,
                           shares=shares, history=insights.policy_history(es, index), candidates=CANDIDATES,
                           candidate=candidate, evaluation=evaluation)


@bp.route("/")
def page():
    return _page(chosen_index())


@bp.route("/evaluate", methods=["POST"])
def evaluate():
    """Off-policy value of the chosen candidate (reads the logs, changes nothing; POST: it is heavy)."""
    index, candidate = chosen_index(), request.form.get("candidate", "published")
    if candidate not in CANDIDATES:
        raise QueryError(f"unknown candidate policy {candidate[:40]!r} (known: {', '.join(CANDIDATES)})")
    p = panel()
    evaluation = evaluate_policy(p.es, p.config, index, candidate, echo=lambda _: None)
    return _page(index, evaluation, candidate)


@bp.route("/chart/arms.svg")
def arms_chart():
    index = chosen_index()
    _, shares = insights.plan_shares(panel().es, index)
    slices = list(dict.fromkeys(s for a in shares for s in a.by_slice))
    series = {"all searches": [a.share for a in shares],
              **{name: [a.by_slice.get(name, 0.0) for a in shares] for name in slices}}
    return svg(charts.bar_chart(f"{index}: share of plans that include each strategy", [a.strategy for a in shares],
                                series, percent=True, empty="no searches logged yet"))
