"""``lrr-es learn``: the bandit's learning step (DESIGN.md §3, §6).

Logged bandit decisions of one alias and their feedback → per-arm semi-bandit rewards → update of
the published policy (a fresh one from ``config.bandit`` when none is published), in time order →
publish the next version with ``save_policy``. The published document keeps the high-water mark
(``params.learned_through``: the last learned decision's timestamp and search id), so a second run
over the same window learns nothing and publishes nothing. Decisions younger than ``settle_s`` are
left for a later run: their feedback may still be on its way.

The policy first ``offer``s the arms configured for the alias: arms that are no longer configured
are dropped with what they learned, and their logged rewards are ignored (counted in the state's
``ignored_rewards``); a newly configured arm starts from a fresh prior.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any, Callable, Iterable, Iterator, Mapping

from elasticsearch import Elasticsearch
from tqdm import tqdm

from ..bandit import Policy, RewardParams, make_policy
from ..bandit.store import load_policy, policy_record, save_policy
from ..config import Config
from ..context import CONTEXT_DIM
from ..errors import ConfigError, ModelError
from ..fusion import FusionWeights, learn_fusion, load_fusion, prior_weights, save_fusion
from ..strategies import STRATEGIES
from .logged import Logged, LoggedSearch, Mark, Tally, check_time, count_logged, stream_logged

log = logging.getLogger(__name__)

Echo = Callable[[str], None]


@dataclass(frozen=True)
class LearnReport:
    """What one learning run read, learned and published."""

    index: str
    decisions: int  # decisions learned from
    engaged: int  # of which some document was positively engaged with
    reward_per_arm: Mapping[str, float]  # mean reward of each arm over the decisions where it ran
    pulls: Mapping[str, int]  # decisions where each arm ran
    skipped: Mapping[str, int] = field(default_factory=dict)
    window: Mapping[str, Any] = field(default_factory=dict)  # first/last learned decision (epoch ms)
    base_version: int | None = None  # published version learned on (None: a fresh policy)
    version: int | None = None  # the version published (None: nothing new, or a dry run)
    policy_version: str | None = None  # the state's version string (<name>-s<seed>-u<updates>)
    dry_run: bool = False
    fusion: FusionWeights | None = None  # the fusion weights learned with this run (lrr_es.fusion)

    @property
    def engaged_share(self) -> float:
        """The share of learned decisions with a positively engaged document."""
        return self.engaged / self.decisions if self.decisions else 0.0

    def summary(self) -> str:
        """A few lines for the terminal."""
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items())) or "none"
        lines = [f"{self.index}: {self.decisions} new bandit decisions, {self.engaged} engaged "
                 f"({self.engaged_share:.1%}); skipped: {skipped}"]
        for arm in sorted(self.pulls, key=lambda a: -self.pulls[a]):
            lines.append(f"  {arm:<12} ran {self.pulls[arm]:>6}  mean reward {self.reward_per_arm[arm]:+.4f}")
        base = f"version {self.base_version}" if self.base_version else "a fresh policy"
        if self.version is not None:
            lines.append(f"published policy version {self.version} ({self.policy_version}), learned on {base}")
        elif self.dry_run and self.decisions:
            lines.append(f"dry run: would publish {self.policy_version} (learned on {base})")
        else:
            lines.append("nothing new to learn; no version published")
        if self.fusion is not None and self.decisions:
            published = f"published as version {self.fusion.version}" if self.fusion.version else "not published"
            lines.append(f"fusion weights ({published}):")
            lines.append(self.fusion.summary())
        return "\n".join(lines)


def configured_arms(config: Config, index: str) -> list[dict]:
    """The arm descriptors (name, kind, cost) of the strategies configured for ``index``."""
    return [STRATEGIES[name].descriptors() for name in config.index(index).strategies if name in STRATEGIES]


def current_policy(es: Elasticsearch, config: Config, index: str) -> tuple[Policy, dict | None]:
    """(the published policy of ``index`` or a fresh one from config.bandit, its document without artifact)."""
    record = policy_record(es, index)
    policy = load_policy(es, index) if record is not None else None
    if policy is not None and policy.dim != CONTEXT_DIM:  # learned on an earlier context version
        log.warning("the published policy of %s has %d context features, this version %d: learning a fresh one",
                    index, policy.dim, CONTEXT_DIM)
        policy, record = None, None
    if policy is None:
        b = config.bandit
        return make_policy(b.policy, dim=CONTEXT_DIM, seed=b.seed), None
    return policy, record


def learn(es: Elasticsearch, config: Config, index: str, since: Any = None, until: Any = None, batch: int = 200,
          rewards: RewardParams = RewardParams(), min_grade: float = 1.0, settle_s: float = 0.0,
          dry_run: bool = False, progress: bool = False, echo: Echo = print) -> LearnReport:
    """Learn the published policy of ``index`` from the bandit decisions logged in [since, until).

    ``batch`` decisions go into each ``Policy.update`` call (each call that changes the state counts
    one update in the policy's version); ``rewards`` weighs the reward terms (credit "auto" resolved
    for the policy: "shared" for the plan-level vw policy, "found" for the others); a document is engaged
    when its strongest action's grade reaches ``min_grade``; decisions younger than ``settle_s``
    seconds are left for a later run. ``dry_run`` computes everything and publishes nothing.
    """
    config.index(index)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ConfigError(f"batch must be a positive integer, got {batch!r}")
    if isinstance(settle_s, bool) or not isinstance(settle_s, (int, float)) or not settle_s >= 0:
        raise ConfigError(f"settle_s must be a number >= 0, got {settle_s!r}")
    until_ms = check_time("until", until)
    if settle_s:
        settled = int((time.time() - settle_s) * 1000)
        until_ms = settled if until_ms is None else min(until_ms, settled)
    policy, record = current_policy(es, config, index)
    rewards = rewards.for_policy(policy)
    mark = Mark.from_params((record or {}).get("params"))
    skipped = Logged()
    searches = stream_logged(es, index, since, until_ms, config.feedback.weights, mark, policy.dim, rewards, min_grade,
                             skipped)
    policy.offer(configured_arms(config, index))
    evidence: Counter = Counter()  # (arms that ran, arms that found an engaged document) -> searches
    total = count_logged(es, index, since, until_ms, mark) if progress else None
    tally = _update(policy, _noting_fusion(searches, rewards, evidence), batch, progress, total)
    report = _report(index, tally, skipped, record, policy, dry_run)
    fusion = _learn_fusion(es, config, index, evidence)
    if tally.searches and not dry_run:
        version = save_policy(es, index, policy, metrics=_metrics(report),
                              params={"learned_through": tally.last.to_dict()}, training_window=dict(report.window))
        fusion = replace(fusion, version=save_fusion(es, index, fusion, report.window))
        report = replace(report, version=version)
    report = replace(report, fusion=fusion)
    echo(report.summary())
    return report


def _update(policy: Policy, searches: Iterable[LoggedSearch], batch: int, progress: bool,
            total: int | None = None) -> Tally:
    """Feed ``searches`` (in time order) to ``policy``, ``batch`` per update; what they held."""
    tally = Tally()
    searches = iter(searches)
    with tqdm(total=total, desc="learn", unit="decision", disable=None if progress else True,
              mininterval=0.5) as bar:
        while chunk := list(islice(searches, batch)):
            policy.update([s.decision for s in chunk], [dict(s.rewards) for s in chunk])
            for search in chunk:
                tally.add(search)
            bar.update(len(chunk))
    return tally


def _noting_fusion(searches: Iterable[LoggedSearch], rewards: RewardParams,
                   evidence: Counter) -> Iterator[LoggedSearch]:
    """``searches`` as they stream by, each engaged one counted in ``evidence`` by (arms that ran, arms
    that found an engaged document): an arm found one exactly when its reward exceeds minus its cost
    term. The counts stay bounded by the arm combinations, however long the log."""
    for s in searches:
        if s.engaged:
            costs = s.decision.costs
            finders = frozenset(a for a, r in s.rewards.items() if r + rewards.cost_weight * costs.get(a, 1.0) > 1e-9)
            evidence[(tuple(s.rewards), finders)] += 1
        yield s


def _learn_fusion(es: Elasticsearch, config: Config, index: str, evidence: Counter) -> FusionWeights:
    """The index's fusion weights updated with this run's engaged searches (counts add up across runs;
    damaged published weights start again from the priors)."""
    try:
        previous = load_fusion(es, index)
    except ModelError:
        previous = None
    searches = (key for key, n in evidence.items() for _ in range(n))
    return learn_fusion(searches, prior_weights(config.retrieval.weights), previous)


def _report(index: str, tally: Tally, skipped: Logged, record: dict | None, policy: Policy,
            dry_run: bool) -> LearnReport:
    window = {"from": tally.first.timestamp, "to": tally.last.timestamp} if tally.searches else {}
    return LearnReport(
        index=index, decisions=tally.searches, engaged=tally.engaged, reward_per_arm=tally.reward_per_arm,
        pulls=dict(tally.pulls), skipped=dict(skipped.skipped), window=window,
        base_version=(record or {}).get("version"), policy_version=policy.version, dry_run=dry_run)


def _metrics(report: LearnReport) -> dict:
    return {"decisions": report.decisions, "engaged": report.engaged, "engaged_share": report.engaged_share,
            "reward_per_arm": dict(report.reward_per_arm), "pulls": dict(report.pulls),
            "skipped": dict(report.skipped), "window": dict(report.window), "base_version": report.base_version}
