"""Feedback: events into lrr-events, Q2E memory updates, the abuse cap (the join for the learners is
:mod:`lrr_es.learn.join`).

See DESIGN.md §3. ``FeedbackWriter`` is the entry point (``LrrEngine.feedback`` delegates to it).
"""
from .cap import SessionCap, event_weight
from .events import BUILTIN_ACTIONS, FeedbackEvent, derive_event_id, make_event
from .plan import RecentSearches, SearchContext
from .writer import FeedbackWriter, WriterStats

__all__ = ["BUILTIN_ACTIONS", "FeedbackEvent", "FeedbackWriter", "RecentSearches", "SearchContext", "SessionCap",
           "WriterStats", "derive_event_id", "event_weight", "make_event"]
