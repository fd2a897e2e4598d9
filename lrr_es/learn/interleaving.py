"""The online trial of a candidate ranker: its team-draft interleaving result from the logs, and the
promotion it decides (DESIGN.md §7; lrr_es.rank.interleave for the method).

``lrr-es train`` puts a ranker that beat the live one on its holdout on trial (``start_interleaving``);
serving then interleaves it with the live order on ``ranker.interleave_share`` of the first pages and
logs the team of each shown hit with the decision. ``judge_interleaving`` reads those decisions (the
ones interleaved against the ranker live now) with their feedback and credits each search to the team
whose documents earned more engagement (the sum of the engaged documents' grades, FeedbackConfig.weights).
``settle_interleaving`` stores the result with the candidate and acts on it: promoted when the sign test
is significant in its favour, retired when significant against, left on trial otherwise. ``lrr-es
train`` and ``lrr-es learn`` settle before anything else; ``lrr-es models judge`` does it alone.

The test is repeated at every settlement while the trial runs, which inflates its false-positive rate
above ``interleave_alpha``; ``interleave_min`` decided searches before any verdict limits that.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from elasticsearch import Elasticsearch

from ..config import Config
from ..rank.interleave import CANDIDATE, LIVE, InterleaveResult, credit, summary, tally
from ..rank.registry import (ModelInfo, get_model, interleaved_model, live_model, promote, record_interleaving,
                             retire)
from .join import join_pages, read_logs


@dataclass(frozen=True)
class Settlement:
    """What one settlement found and did for the candidate on trial."""

    version: int
    live: int | str  # the live ranker's version, or "rrf"
    figures: Mapping[str, Any]  # InterleaveResult.to_dict
    action: str  # "promoted", "retired" or "on trial"


def judge_interleaving(es: Elasticsearch, config: Config, alias: str,
                       version: int | None = None) -> tuple[ModelInfo | None, int | str, InterleaveResult]:
    """(the candidate, the live version or "rrf", its interleaving result against that live ranker,
    from the searches logged since its trial started).

    The candidate is ``version`` or, by default, the one on trial (None and an empty result without one).
    """
    info = get_model(es, alias, version) if version is not None else interleaved_model(es, alias)
    current = live_model(es, alias)
    live: int | str = current.version if current is not None else "rrf"
    if info is None:
        return None, live, InterleaveResult()
    where = [{"term": {"index": alias}}, {"term": {"interleave.candidate": info.version}},
             {"term": {"interleave.live": str(live)}}]
    outcomes = []
    since = info.lifecycle.get("interleave_since")  # a version number reused after its models were deleted
    for decision, feedback in join_pages(read_logs(es, since=since, where=where), config.feedback.weights):
        outcomes.append(credit(_teams(decision), {e.doc_id: e.grade for e in feedback.engaged}))
    return info, live, tally(outcomes)


def settle_interleaving(es: Elasticsearch, config: Config, alias: str,
                        echo: Callable[[str], None] = lambda _: None) -> Settlement | None:
    """Judge the candidate on trial, store the result with it, promote or retire it by the rule; None
    when no candidate is on trial."""
    info, live, result = judge_interleaving(es, config, alias)
    if info is None:
        return None
    r = config.ranker
    figures = result.to_dict(r.interleave_alpha, r.interleave_min)
    record_interleaving(es, alias, info.version, figures)
    action = "on trial"
    if figures["verdict"] == "better":
        promote(es, alias, info.version)
        action = "promoted"
    elif figures["verdict"] == "worse":
        retire(es, alias, info.version)
        action = "retired"
    echo(f"{alias}: ranker v{info.version} against {'RRF' if live == 'rrf' else f'v{live}'} by interleaving: "
         f"{summary(figures)}; {action}")
    return Settlement(info.version, live, figures, action)


def _teams(decision: Mapping) -> dict[str, str]:
    """Shown doc id -> team of a logged trial page (the teams are aligned with the first shown ids)."""
    teams = (decision.get("interleave") or {}).get("teams") or []
    return {str(doc): team for doc, team in zip(decision.get("shown") or [], teams) if team in (LIVE, CANDIDATE)}
