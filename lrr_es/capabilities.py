"""Which Elasticsearch modules lrr-es needs, and the error that names the ones a node lacks.

Pure: works on the dict :func:`lrr_es.es.capabilities` returns, so a node that lacks a module is
refused up front with one clear sentence instead of failing later with a mapping or script error.
"""
from __future__ import annotations

import re

from .errors import MissingCapabilityError

# module name (as GET /_nodes reports it) -> what lrr-es uses it for
REQUIRED_MODULES: dict[str, str] = {
    "lang-painless": "stored Painless scripts for the Q2E memory, editorial edits and semantic scoring",
    "mapper-extras": "rank_feature and rank_features fields for popularity and the Q2E memory",
    "analysis-common": "the catalog template's analyzers: asciifolding, edge_ngram, shingle",
    "reindex": "_update_by_query and _delete_by_query for editorial updates and model clean-up",
}
# modules loaded from the class path (the embedded 7.10.2 node) are listed by their plugin class
PLUGIN_CLASSES = {"PainlessPlugin": "lang-painless", "MapperExtrasPlugin": "mapper-extras",
                  "CommonAnalysisPlugin": "analysis-common", "ReindexPlugin": "reindex", "Netty4Plugin": "transport-netty4"}
# what a node answers when it lacks a module (it has no other way to say so), and that module
MODULE_ERRORS = (
    (re.compile(r"unsupported lang \[painless\]|script_lang not supported \[painless\]"), "lang-painless"),
    (re.compile(r"mapper type \[rank_features?\]"), "mapper-extras"),
    (re.compile(r"failed to find (filter|tokenizer|char_filter) under name|Unknown (filter|tokenizer|char_filter) type"),
     "analysis-common"),
    (re.compile(r"for uri \[[^\]]*/_(update_by_query|delete_by_query|reindex)\b"), "reindex"),
)
# what the integ-test distribution served by Maven Central carries (the 8.x client compatibility node)
INTEG_TEST_MODULES = ("transport-netty4", "apm", "x-pack-core", "x-pack-security")


def module_name(entry: dict) -> str:
    """The module name of one entry of GET /_nodes/plugins (``modules`` or ``plugins``)."""
    name = entry.get("name", "")
    return PLUGIN_CLASSES.get(name.rsplit(".", 1)[-1], name)


def module_missing_in(error_text: str) -> str | None:
    """The module an error answer shows missing (``"lang-painless"`` ...), or None for any other error."""
    return next((module for pattern, module in MODULE_ERRORS if pattern.search(error_text)), None)


def missing_modules(caps: dict, needed: dict[str, str] | None = None) -> dict[str, str]:
    """The needed modules (name -> purpose) a node lacks; empty when it has them or cannot tell.

    ``caps["modules"]`` is None when the node did not list its modules (e.g. no monitor privilege):
    lrr-es then does not refuse up front.
    """
    have = caps.get("modules")
    if have is None:
        return {}
    needed = REQUIRED_MODULES if needed is None else needed
    return {name: purpose for name, purpose in needed.items() if name not in have}


def describe_missing(caps: dict, missing: dict[str, str]) -> str:
    """One message naming every missing module and what it is for."""
    lacks = "; ".join(f"{name} ({purpose})" for name, purpose in missing.items())
    message = (f"this Elasticsearch node ({caps.get('version', 'unknown version')}) lacks {lacks}. "
               "lrr-es needs them: use a full Elasticsearch distribution, 7.10 or newer")
    have = caps.get("modules") or []
    if set(have) <= set(INTEG_TEST_MODULES):
        message += (f". This looks like the integ-test distribution, which carries only {', '.join(sorted(have))}: "
                    "it serves the 8.x client compatibility tests and pass-through traffic, not lrr-es itself")
    return message


def check(caps: dict, needed: dict[str, str] | None = None) -> None:
    """Raise MissingCapabilityError naming what the node lacks (no-op when it has everything)."""
    missing = missing_modules(caps, needed)
    if missing:
        raise MissingCapabilityError(describe_missing(caps, missing))
