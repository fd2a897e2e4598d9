"""Feedback: events into lrr-events, Q2E memory updates, the abuse cap, the join for the learners.

See DESIGN.md §3. ``FeedbackWriter`` is the entry point (``LrrEngine.feedback`` delegates to it).
"""
from .cap import SessionCap, event_weight
from .events import BUILTIN_ACTIONS, FeedbackEvent, derive_event_id, make_event
from .join import CandidateLabel, Engagement, SearchFeedback, join_events, join_feedback
from .plan import RecentSearches, SearchContext
from .writer import FeedbackWriter, WriterStats

__all__ = ["BUILTIN_ACTIONS", "CandidateLabel", "Engagement", "FeedbackEvent", "FeedbackWriter", "RecentSearches",
           "SearchContext", "SearchFeedback", "SessionCap", "WriterStats", "derive_event_id", "event_weight",
           "join_events", "join_feedback", "make_event"]
