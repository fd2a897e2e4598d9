"""Team-draft interleaving of a candidate ranker against the live one (pure; Radlinski et al., 2008).

An unbiased online comparison for promotion: on a small share of searches (``in_share``) the page is
the team-draft interleaving of the live order and the candidate's order of the same pool, and each
shown document remembers the team that placed it (logged with the decision). A user's engagement
then credits the team of the engaged document (``credit``): the team with more credit wins that
search. Because every position is filled by a coin-flipped alternation of the two rankers, neither
gets the better positions by construction, so position bias cancels out of the comparison and,
unlike a holdout of logs the live model chose, the candidate is judged on what it would show.

``tally`` counts wins, losses and ties over the interleaved searches; ``InterleaveResult`` gives the
candidate's win share and a two-sided sign test (the exact binomial test of scipy, which is already a
dependency: wins out of the decided searches, against a fair coin) with its Clopper-Pearson interval.
"""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Iterable, Mapping, Sequence, TypeVar

from scipy.stats import binomtest

T = TypeVar("T")
LIVE, CANDIDATE = "live", "candidate"


def team_draft(live: Sequence[T], candidate: Sequence[T], rng: random.Random,
               length: int | None = None) -> tuple[list[T], list[str]]:
    """(the interleaved list, the team of each of its items) of two rankings of the same items.

    Each round the team that has placed fewer items picks (a coin flip when both placed as many) and
    places its highest-ranked item not yet in the list. Both lists contribute alternately, no item
    appears twice, and every prefix of the list holds the teams' picks in their own order. The
    length is ``length`` (default: every item of either list).
    """
    out: list[T] = []
    teams: list[str] = []
    placed: set[T] = set()
    lists = {LIVE: list(live), CANDIDATE: list(candidate)}
    cursor = {LIVE: 0, CANDIDATE: 0}
    picks = {LIVE: 0, CANDIDATE: 0}
    limit = len(set(lists[LIVE]) | set(lists[CANDIDATE])) if length is None else length
    while len(out) < limit:
        for team in lists:  # skip what the other team placed already
            while cursor[team] < len(lists[team]) and lists[team][cursor[team]] in placed:
                cursor[team] += 1
        left = [t for t in lists if cursor[t] < len(lists[t])]
        if not left:
            break
        if len(left) == 2 and picks[LIVE] == picks[CANDIDATE]:
            team = CANDIDATE if rng.random() < 0.5 else LIVE
        elif len(left) == 2:
            team = LIVE if picks[LIVE] < picks[CANDIDATE] else CANDIDATE
        else:
            team = left[0]
        item = lists[team][cursor[team]]
        out.append(item)
        teams.append(team)
        placed.add(item)
        picks[team] += 1
    return out, teams


def in_share(search_id: str, share: float) -> bool:
    """Whether the search ``search_id`` (a uuid4 in hex) is interleaved, with probability ``share``;
    drawn from hex digits 24-32 of the id (the randomized swap draws from the first 12, and digits 12
    and 16 of a uuid4 are its version and variant, not random)."""
    if share <= 0:
        return False
    return int(search_id[24:32], 16) / 16 ** 8 < share


def coin(search_id: str) -> random.Random:
    """The seeded coin of a search's team draft (from the id's hex digits 17-24): it repeats for an id."""
    return random.Random(int(search_id[17:24], 16))


def credit(teams: Mapping[str, str], engaged: Mapping[str, float]) -> int | None:
    """+1 when the candidate's documents earned more engagement than the live one's, -1 when less, 0
    on a tie, None when no interleaved document was engaged with. ``teams``: shown doc id -> team; ``engaged``: doc id -> grade (the
    strongest action's weight); documents not shown by the interleaving are ignored."""
    totals = {LIVE: 0.0, CANDIDATE: 0.0}
    for doc_id, grade in engaged.items():
        team = teams.get(doc_id)
        if team in totals and grade > 0:
            totals[team] += grade
    if not totals[LIVE] and not totals[CANDIDATE]:
        return None
    return (totals[CANDIDATE] > totals[LIVE]) - (totals[CANDIDATE] < totals[LIVE])


@dataclass(frozen=True)
class InterleaveResult:
    """Interleaved searches of one candidate: won, lost and tied (with engagement), and without any."""

    wins: int = 0
    losses: int = 0
    ties: int = 0
    silent: int = 0  # no engagement on an interleaved document: no preference shown

    @property
    def searches(self) -> int:
        return self.wins + self.losses + self.ties + self.silent

    @property
    def decided(self) -> int:
        return self.wins + self.losses

    @property
    def win_share(self) -> float | None:
        """The candidate's share of the decided searches (None before any)."""
        return self.wins / self.decided if self.decided else None

    @property
    def p_value(self) -> float:
        """Two-sided sign test: P(a split at least this uneven | both rankers equally good); 1.0 before any."""
        return float(binomtest(self.wins, self.decided, 0.5).pvalue) if self.decided else 1.0

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """Clopper-Pearson interval of the candidate's win share at ``level``; (0, 1) before any decided search."""
        if not self.decided:
            return 0.0, 1.0
        ci = binomtest(self.wins, self.decided, 0.5).proportion_ci(level, method="exact")
        return float(ci.low), float(ci.high)

    def verdict(self, alpha: float, min_decided: int) -> str:
        """"better" or "worse" when at least ``min_decided`` searches were decided and the sign test
        rejects equality at ``alpha`` in that direction; "undecided" otherwise."""
        if self.decided < min_decided or self.p_value >= alpha:
            return "undecided"
        return "better" if self.wins > self.losses else "worse"

    def to_dict(self, alpha: float, min_decided: int) -> dict:
        """The figures as stored with the candidate and printed by ``lrr-es models show``."""
        low, high = self.interval()
        return {**asdict(self), "searches": self.searches, "win_share": self.win_share, "p_value": self.p_value,
                "ci95": [low, high], "alpha": alpha, "min_decided": min_decided,
                "verdict": self.verdict(alpha, min_decided)}


def tally(outcomes: Iterable[int | None]) -> InterleaveResult:
    """Count per-search outcomes: +1 won, -1 lost, 0 tied, None no engagement."""
    counts = {1: 0, -1: 0, 0: 0, None: 0}
    for outcome in outcomes:
        counts[outcome] += 1
    return InterleaveResult(counts[1], counts[-1], counts[0], counts[None])


def summary(figures: Mapping | None) -> str:
    """One line of stored figures (``InterleaveResult.to_dict``), for the CLI and logs."""
    if not figures:
        return "no interleaved search judged yet"
    share = figures.get("win_share")
    low, high = figures.get("ci95") or (0.0, 1.0)
    return (f"{figures['wins']} won, {figures['losses']} lost, {figures['ties']} tied, {figures['silent']} without "
            f"engagement (of {figures['searches']} interleaved searches); candidate win share "
            f"{'-' if share is None else f'{share:.3f}'} (95% CI {low:.3f}-{high:.3f}), sign test p = "
            f"{figures['p_value']:.4g}: {figures['verdict']} at alpha {figures['alpha']} "
            f"(at least {figures['min_decided']} decided searches)")
