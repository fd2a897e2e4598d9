"""The learning loop (DESIGN.md §3), in one wing: logged decisions + feedback → new model versions.

- :mod:`lrr_es.learn.join`: the join of logged decisions (lrr-decisions) with feedback (lrr-events).
- :mod:`lrr_es.learn.logged`: logged bandit searches with their per-arm rewards and the high-water mark.
- :mod:`lrr_es.learn.policy`: ``learn`` updates and publishes the bandit policy of an alias (``lrr-es learn``).
- :mod:`lrr_es.learn.evaluate`: ``evaluate_policy`` estimates a candidate policy's value on the logs
  (IPS, SNIPS, DR) before it serves traffic (``lrr-es evaluate-policy``).
- :mod:`lrr_es.learn.examination`: the position-bias (examination) estimate.
- :mod:`lrr_es.learn.ranker`: ``train`` trains, judges, saves and promotes a ranker (``lrr-es train``;
  imported from there, as it loads XGBoost).

Serving-side code stays where serving needs it: policies in :mod:`lrr_es.bandit`, the ranker model,
its features and registry in :mod:`lrr_es.rank`.
"""
from .evaluate import CANDIDATES, PolicyEvaluation, evaluate_policy, evaluate_searches
from .join import CandidateLabel, Engagement, SearchFeedback, join_events, join_feedback
from .logged import Logged, LoggedSearch, Mark, load_logged, logged_searches, search_rewards
from .policy import LearnReport, configured_arms, current_policy, learn

__all__ = ["CANDIDATES", "CandidateLabel", "Engagement", "LearnReport", "Logged", "LoggedSearch", "Mark",
           "PolicyEvaluation", "SearchFeedback", "configured_arms", "current_policy", "evaluate_policy",
           "evaluate_searches", "join_events", "join_feedback", "learn", "load_logged", "logged_searches",
           "search_rewards"]
