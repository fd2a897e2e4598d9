"""Index templates and stored scripts (all pure).

The JSON files in ``index_templates/`` and the Painless files in ``painless/`` are the source
of truth; this module renders them for one configured index and names scripts by content hash,
so a process always calls the exact script source it shipped with.
"""
from __future__ import annotations

import copy
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from .config import IndexConfig
from .names import SYSTEM_INDICES

PACKAGE = Path(__file__).parent


def shipped_dir(name: str) -> Path:
    """``index_templates`` or ``painless``: inside the installed package (a wheel puts them there), or
    at the top of the source tree this module was imported from (a checkout or an editable install)."""
    inside = PACKAGE / name
    return inside if inside.is_dir() else PACKAGE.parent / name


LRR_FIELDS = ("q2e", "q2e_queries", "q2e_ts", "q2e_seeded", "q2e_pinned", "q2e_events", "q2e_window",
              "lrr_phonetic", "lrr_sem_cluster", "lrr_emb")
PHONETIC_FIELD = "lrr_phonetic"
SEM_CLUSTER_FIELD = "lrr_sem_cluster"  # keyword: the document's coarse semantic cluster
EMBEDDING_FIELD = "lrr_emb"  # object of float doc values lrr_emb.d00 .. (the semantic vector)
ADOPTED_POPULARITY_FEATURE = "lrr_popularity"
_MUSIC_ROLES = ("title", "artist", "genre", "popularity", "added_at", "entity_type", "year", "decade", "main_genre")


@lru_cache(maxsize=None)
def _template_file(name: str) -> dict:
    raw = json.loads((shipped_dir("index_templates") / f"{name}.json").read_text(encoding="utf-8"))
    raw.pop("_comment", None)
    roles = raw.pop("_roles", None)
    if roles is not None:
        roles.pop("_comment", None)
        _ROLE_PROTOTYPES[name] = roles
    return raw


_ROLE_PROTOTYPES: dict[str, dict] = {}


def _prototype(kind: str) -> dict:
    _template_file("catalog")
    return copy.deepcopy(_ROLE_PROTOTYPES["catalog"][kind])


def template_version(name: str) -> int:
    return int(_template_file(name)["version"])


def system_template(name: str) -> dict:
    """The composable template body of one system index (``lrr-events`` ...)."""
    if name not in SYSTEM_INDICES:
        raise ValueError(f"unknown system index {name!r} (known: {', '.join(SYSTEM_INDICES)})")
    return copy.deepcopy(_template_file(name))


def catalog_template(index: IndexConfig) -> dict:
    """The composable template for ``<alias>-v*`` with the index's own field names."""
    body = copy.deepcopy(_template_file("catalog"))
    body["index_patterns"] = [f"{index.name}-v*"]
    settings = body["template"]["settings"]["index"]
    settings["number_of_shards"], settings["number_of_replicas"] = index.shards, index.replicas
    props = body["template"]["mappings"]["properties"]
    render = _music_properties if index.fields.music else _role_properties
    body["template"]["mappings"]["properties"] = render(props, index)
    # the hash makes `migrate` update an installed template when the config (shards, field map) changes
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
    body["_meta"] = {"lrr": {"schema_version": body["version"], "alias": index.name, "body_hash": digest}}
    return body


def lrr_field_mappings() -> dict:
    """The mappings of the fields lrr-es owns in every catalog index (for adopting an app's index)."""
    props = _template_file("catalog")["template"]["mappings"]["properties"]
    return {name: copy.deepcopy(props[name]) for name in LRR_FIELDS}


def merge_settings() -> dict[str, str]:
    """The catalog's merge policy settings, flat (``index.merge.policy.<name>``: value as text): they keep
    the deleted copies the Q2E updates leave behind bounded (docs/benchmarks.md "Feedback"). Dynamic
    settings, so ``lrr-es migrate`` also puts them on a live index in place."""
    policy = _template_file("catalog")["template"]["settings"]["index"]["merge"]["policy"]
    return {f"index.merge.policy.{name}": str(value) for name, value in policy.items()}


def catalog_analysis() -> dict:
    return copy.deepcopy(_template_file("catalog")["template"]["settings"]["analysis"])


def _music_properties(props: dict, index: IndexConfig) -> dict:
    """A field map in the music spelling: the template's music fields, each role under the app's name."""
    fields = index.fields
    genre = fields.attribute("genre")
    names = {"title": fields.title, "artist": fields.people,
             "genre": genre.fields[:1] if genre else (), "main_genre": genre.fields[1:2] if genre else (),
             "year": _attribute_fields(fields, "year"), "decade": _attribute_fields(fields, "decade"),
             **{role: (getattr(fields, role),) if getattr(fields, role) else ()
                for role in ("popularity", "added_at", "entity_type")}}
    out = {k: v for k, v in props.items() if k not in _MUSIC_ROLES}
    for role, named in names.items():
        for name in named:
            if "." not in name:  # "title.prefix" names a sub-field, defined with its parent
                out.setdefault(name, copy.deepcopy(props[role]))
    return out


def _role_properties(props: dict, index: IndexConfig) -> dict:
    """A field map in the domain-neutral spelling: lrr-es's own fields and exactly the fields the map
    names, each with its role's mapping (a field named by two roles keeps the first: text roles, then
    attributes)."""
    fields = index.fields
    out = {name: copy.deepcopy(props[name]) for name in LRR_FIELDS}
    named = [(f, "description" if role == "description" else "text") for role, fs, _ in fields.text_roles() for f in fs]
    named += [(f, a.kind) for a in fields.attributes for f in a.fields]
    named += [(f, kind) for f, kind in ((fields.popularity, "popularity"), (fields.added_at, "freshness"),
                                        (fields.entity_type, "entity_type")) if f]
    for name, kind in named:
        if "." not in name:
            out.setdefault(name, _prototype(kind))
    return out


def _attribute_fields(fields, name: str) -> tuple[str, ...]:
    attribute = fields.attribute(name)
    return attribute.fields[:1] if attribute else ()


# --- stored scripts ---------------------------------------------------------------------------

@lru_cache(maxsize=None)
def script_source(name: str) -> str:
    path = shipped_dir("painless") / f"{name}.painless"
    if not path.exists():
        known = sorted(p.stem for p in shipped_dir("painless").glob("*.painless"))
        raise ValueError(f"unknown stored script {name!r} (known: {', '.join(known)})")
    return path.read_text(encoding="utf-8")


def script_id(name: str) -> str:
    """The stored-script id of ``name``: ``lrr-<name>-<hash of its source>``."""
    return f"lrr-{name}-{hashlib.sha256(script_source(name).encode()).hexdigest()[:10]}"


def script_names() -> list[str]:
    return sorted(p.stem for p in shipped_dir("painless").glob("*.painless"))
