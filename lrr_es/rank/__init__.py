"""Learning to rank: candidate features, the XGBoost ranker, its registry in lrr-models, serving."""
from .features import FEATURE_SCHEMA, FEATURE_VERSION, candidate_features, feature_schema, schema_id
from .model import LtrRanker

__all__ = ["FEATURE_SCHEMA", "FEATURE_VERSION", "LtrRanker", "candidate_features", "feature_schema", "schema_id"]
