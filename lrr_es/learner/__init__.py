"""The learner (DESIGN.md §3): logged bandit decisions + feedback → policy updates, off-policy evaluation.

``learn`` updates and publishes the policy of an alias; ``evaluate_policy`` estimates a candidate
policy's value on the logs (IPS, SNIPS, DR) before it serves traffic.
"""
from .evaluate import CANDIDATES, PolicyEvaluation, evaluate_policy, evaluate_searches
from .learn import LearnReport, configured_arms, current_policy, learn
from .logged import Logged, LoggedSearch, Mark, load_logged, logged_searches, search_rewards

__all__ = ["CANDIDATES", "LearnReport", "Logged", "LoggedSearch", "Mark", "PolicyEvaluation", "configured_arms",
           "current_policy", "evaluate_policy", "evaluate_searches", "learn", "load_logged", "logged_searches",
           "search_rewards"]
