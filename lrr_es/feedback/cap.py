"""How much one event moves a Q2E score: the action's weight, and the per-session abuse cap (pure).

Where the cap is enforced, and what that costs
----------------------------------------------
The cap lives in the writer process (:class:`SessionCap`), before any update is sent: a burst of
10,000 clicks from one session turns into at most ``cap / weight`` scripted updates and 10,000
stored events flagged ``capped``; Elasticsearch does no work for the rest. That is cheap and exact
within one process. It is not a global guarantee:

- With N writer processes and no routing by session, a session spread over all of them can move a
  score by up to N x cap per window. Route feedback by session_id (a sticky load balancer, or one
  learner-side writer fed from a queue) where that matters.
- A restarted process forgets the windows it held (events replayed from the spool are capped
  again, but sessions seen before the restart start a new window).
- Memory is bounded (``max_entries`` windows, least recently used evicted); evicting a live window
  resets that session's budget, which needs ``max_entries`` distinct active triples to happen.

Because session ids come from the caller, this cap alone does not stop a spammer with many
sessions (or none: events without a session_id are capped per search_id, and each search is new).
The bound that does not trust the caller is the pair budget (``feedback.pair_cap`` per
``pair_window_s``): how much one query key's score on one document may move per window, whoever
sends the events. It lives in the document (``q2e_window``) and is enforced by the Painless update
(painless/q2e-update.painless) on the writers' clock, so it holds across processes and restarts;
this session cap stays in front of it because it is free (capped events cost Elasticsearch nothing).
"""
from __future__ import annotations

from collections import OrderedDict

from ..config import FeedbackConfig
from .events import FeedbackEvent


def event_weight(event: FeedbackEvent, config: FeedbackConfig) -> float:
    """The signed Q2E increment of ``event`` before the cap (0 for actions without a weight).

    A ``value`` scales the weight: 0..1 is a completion ratio, above 1 a number of seconds, with
    ``config.play_full_s`` seconds counting as complete. Bounded by ``config.max_increment``.
    """
    weight = float(config.weights.get(event.action, 0.0))
    if event.value is not None and weight:
        ratio = event.value if event.value <= 1.0 else min(1.0, event.value / config.play_full_s)
        weight *= ratio
    bound = config.max_increment
    return max(-bound, min(bound, weight))


class SessionCap:
    """Budgets of how much one session may move one (index, key, document) score per window.

    ``allow(...)`` returns the part of an increment that fits the remaining budget (same sign,
    never larger in magnitude) and books it. Windows are fixed, starting at a session's first
    event for the triple, measured on the writer's clock (``received_at``) so that a client cannot
    escape the cap by back-dating timestamps.
    """

    def __init__(self, cap: float, window_ms: int, max_entries: int = 200_000) -> None:
        if cap <= 0 or window_ms <= 0 or max_entries <= 0:
            raise ValueError(f"cap, window_ms and max_entries must be positive, got {cap}, {window_ms}, {max_entries}")
        self.cap, self.window_ms, self.max_entries = float(cap), int(window_ms), int(max_entries)
        self._windows: OrderedDict[tuple, list[float]] = OrderedDict()  # key -> [window start, used]

    @classmethod
    def from_config(cls, config: FeedbackConfig) -> "SessionCap":
        return cls(config.cap_per_session, int(config.cap_window_s * 1000))

    def allow(self, session: str, index: str, key: str, doc_id: str, increment: float, now_ms: int) -> float:
        """The booked part of ``increment`` (0.0 when the budget is spent)."""
        if increment == 0.0:
            return 0.0
        slot = (session, index, key, doc_id)
        window = self._windows.get(slot)
        if window is None or now_ms - window[0] >= self.window_ms:
            window = [float(now_ms), 0.0]
        self._windows[slot] = window
        self._windows.move_to_end(slot)
        while len(self._windows) > self.max_entries:
            self._windows.popitem(last=False)
        allowed = min(abs(increment), max(0.0, self.cap - window[1]))
        window[1] += allowed
        return allowed if increment > 0 else -allowed

    def __len__(self) -> int:
        return len(self._windows)


def session_of(event: FeedbackEvent) -> str:
    """Whose budget an event spends: its session, else its search."""
    if event.session_id is not None:
        return "s:" + event.session_id
    return "q:" + (event.search_id or "")
