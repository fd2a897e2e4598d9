"""Strategies: for each strategy over time, the share of plans that included it, its reward and cost,
how often it found an engaged document and how often it alone did, its latency (median ``took`` of
its sub-search), failures and timeouts (lrr_es.learn.strategy_stats over the logged searches and
their feedback)."""
from __future__ import annotations

import threading
import time

from cachetools import TTLCache
from flask import Blueprint, render_template, request

from ..errors import QueryError
from ..learn.strategy_stats import StrategyStats, load_strategy_stats
from . import charts
from .overview import svg
from .services import chosen_index, panel

bp = Blueprint("strategies", __name__, url_prefix="/strategies")
WINDOWS = {"1": 1, "24": 24, "168": 168}  # hours of logs the page reads
_cache: TTLCache = TTLCache(maxsize=32, ttl=30)  # the page and its charts read the same stats
_lock = threading.Lock()


def _stats(index: str) -> tuple[str, StrategyStats]:
    hours = request.args.get("hours", "24")
    if hours not in WINDOWS:
        raise QueryError(f"hours must be one of {', '.join(WINDOWS)}, got {hours[:20]!r}")
    key = (index, hours)
    with _lock:
        cached = _cache.get(key)
    if cached is None:
        p = panel()
        since = int(time.time() * 1000) - WINDOWS[hours] * 3_600_000
        cached = load_strategy_stats(p.es, index, since, p.config.feedback.weights)
        with _lock:
            _cache[key] = cached
    return hours, cached


@bp.route("/")
def page():
    index = chosen_index()
    hours, stats = _stats(index)
    return render_template("strategies.html", index=index, hours=hours, windows=WINDOWS, stats=stats)


def _over_time(title: str, value, percent: bool = False, ylabel: str = ""):
    index = chosen_index()
    _, stats = _stats(index)
    arms = sorted(stats.total.arms)
    series = {arm: [value(b.arms[arm]) if arm in b.arms else None for b in stats.buckets] for arm in arms}
    return svg(charts.time_chart(f"{index}: {title}", [b.start_ms for b in stats.buckets], series,
                                 percent=percent, ylabel=ylabel))


@bp.route("/chart/share.svg")
def share_chart():
    index = chosen_index()
    _, stats = _stats(index)
    arms = sorted(stats.total.arms)
    series = {arm: [(b.arms[arm].planned / b.searches) if arm in b.arms and b.searches else 0.0 for b in stats.buckets]
              for arm in arms}
    return svg(charts.time_chart(f"{index}: share of plans that include each strategy", [b.start_ms for b in stats.buckets],
                                 series, percent=True))


@bp.route("/chart/reward.svg")
def reward_chart():
    return _over_time("mean reward per strategy (the learner's)", lambda c: c.reward, ylabel="reward")


@bp.route("/chart/found.svg")
def found_chart():
    return _over_time("share of its searches where it found an engaged document", lambda c: c.share(c.found),
                      percent=True)


@bp.route("/chart/latency.svg")
def latency_chart():
    return _over_time("median took of its sub-search (Elasticsearch's, ms)", lambda c: c.p50_ms, ylabel="ms")


@bp.route("/chart/failures.svg")
def failures_chart():
    return _over_time("share of its sub-searches that failed or timed out", lambda c: c.share(c.failed), percent=True)
