"""The names of lrr-es's system indices, defined once (every module imports them from here).

``lrr-events`` holds feedback, ``lrr-decisions`` one document per search, ``lrr-models`` the
versioned artifacts (gazetteers, semantic models, bandit policies, rankers), ``lrr-audit`` every
change made by hand (who, when, what: lrr_es.audit), ``lrr-passthrough`` the client wrapper's
counts of searches passed through to Elasticsearch by reason (lrr_es.client.passthrough). Each is created from
the composable index template of the same name (``index_templates/<name>.json``).
"""
from __future__ import annotations

EVENTS_INDEX = "lrr-events"
DECISIONS_INDEX = "lrr-decisions"
MODELS_INDEX = "lrr-models"
AUDIT_INDEX = "lrr-audit"
PASSTHROUGH_INDEX = "lrr-passthrough"
SYSTEM_INDICES = (EVENTS_INDEX, DECISIONS_INDEX, MODELS_INDEX, AUDIT_INDEX, PASSTHROUGH_INDEX)
