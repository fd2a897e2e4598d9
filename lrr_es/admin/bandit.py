"""Bandit: the live policy (version, learner state, metrics), every stored version with what it learned
from, publish one and roll back (lrr_es.bandit.store, as ``lrr-es policy``; behind a confirmation,
recorded in the audit trail), the policy versions that served, each strategy's share of plans by
context slice, and off-policy evaluation of a candidate policy on the logged decisions
(lrr_es.learn.evaluate_policy, as ``lrr-es evaluate-policy``), started from the page."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from .. import insights
from ..audit import audited, recent_changes
from ..bandit.store import list_policies, policy_record, publish, rollback
from ..errors import QueryError
from ..learn import evaluate_policy
from ..learn.evaluate import CANDIDATES
from . import charts
from .overview import svg
from .services import actor, chosen_index, panel, version_arg

bp = Blueprint("bandit", __name__, url_prefix="/bandit")


def _page(index: str, evaluation=None, candidate: str = "published"):
    es = panel().es
    searches, shares = insights.plan_shares(es, index)
    changes = [c for c in recent_changes(es, index, 50) if c.action.startswith("policy.")][:10]
    return render_template("bandit.html", index=index, policy=policy_record(es, index), searches=searches,
                           shares=shares, history=insights.policy_history(es, index), candidates=CANDIDATES,
                           candidate=candidate, evaluation=evaluation, versions=list_policies(es, index),
                           changes=changes)


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


@bp.route("/chart/versions.svg")
def versions_chart():
    index = chosen_index()
    versions = sorted(list_policies(panel().es, index), key=lambda p: p.version)
    labels = [f"v{p.version}{' (live)' if p.status == 'live' else ''}" for p in versions]
    return svg(charts.bar_chart(f"{index}: what each policy version learned from", labels,
                                {"decisions learned": [float(p.metrics.get("decisions", 0) or 0) for p in versions],
                                 "of which engaged": [float(p.metrics.get("engaged", 0) or 0) for p in versions]},
                                xlabel="logged searches", empty="no policy published yet (lrr-es learn)"))


def _confirmed() -> None:
    if request.form.get("confirm") != "yes":
        raise QueryError("not confirmed: tick the confirmation box to change the policy that serves")


def _describe(info) -> str:
    return f"v{info.version} live ({info.policy})"


@bp.route("/publish", methods=["POST"])
def publish_version():
    """Make a stored policy version live (serving processes pick it up at their next refresh)."""
    index, version = chosen_index(), version_arg()
    if version is None:
        raise QueryError("which version to publish?")
    _confirmed()
    es = panel().es
    info = audited(es, actor(), "policy.publish", index, f"v{version}", {"version": version},
                   lambda: publish(es, index, version), _describe)
    flash(f"{index}: policy v{info.version} is live", "info")
    return redirect(url_for("bandit.page", index=index))


@bp.route("/rollback", methods=["POST"])
def rollback_live():
    """Make live again the version that was live before the current one."""
    index = chosen_index()
    _confirmed()
    es = panel().es
    info = audited(es, actor(), "policy.rollback", index, "live", {}, lambda: rollback(es, index), _describe)
    flash(f"{index}: rolled back to policy v{info.version}", "info")
    return redirect(url_for("bandit.page", index=index))
