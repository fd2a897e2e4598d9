"""Migrations: templates and stored scripts, versioned catalog indices behind an alias.

``<alias>`` always points at one ``<alias>-v<N>``. A migration creates ``v<N+1>``, copies every
document through :func:`lrr_es.catalog.document.index_document`, refuses to swap when the counts differ,
swaps the alias atomically and keeps the old index for :func:`rollback`. An app's plain index
named like the alias is adopted: cloned to ``<alias>-v0`` (the rollback target), copied into
``v1`` with the app's own mapping plus lrr-es's fields, then replaced by the alias in one step.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Callable

from elasticsearch import Elasticsearch
from tqdm import tqdm

from . import es as esio
from .catalog.document import index_document
from .config import Config, IndexConfig
from .errors import MigrationError
from .names import SYSTEM_INDICES
from .templates import (ADOPTED_POPULARITY_FEATURE, catalog_analysis, catalog_template,
                        lrr_field_mappings, merge_settings, script_id, script_names, script_source,
                        system_template, template_version)

log = logging.getLogger(__name__)
Echo = Callable[[str], None]
_VERSIONED = re.compile(r"^(?P<alias>.+)-v(?P<n>\d+)$")
_NUMERIC = {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long"}


@dataclass
class MigrationPlan:
    """What a migration of one alias will do (or did)."""

    alias: str
    action: str  # create | adopt | reindex | up-to-date
    source: str | None = None
    target: str | None = None
    steps: list[str] = field(default_factory=list)
    copied: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        head = f"{self.alias}: {self.action}" + (f" {self.source} -> {self.target}" if self.target else "")
        return "\n".join([head, *(f"  - {s}" for s in self.steps)])


def version_of(name: str, alias: str) -> int | None:
    match = _VERSIONED.match(name)
    return int(match.group("n")) if match and match.group("alias") == alias else None


# --- setup: templates, scripts, system indices ------------------------------------------------

def setup_steps(es: Elasticsearch, config: Config) -> list[tuple[str, Callable[[], None]]]:
    """(description, action) for every template, script and system index not yet as it should be."""
    steps: list[tuple[str, Callable[[], None]]] = []
    wanted = {name: system_template(name) for name in SYSTEM_INDICES}
    wanted.update({f"lrr-catalog-{ix.name}": catalog_template(ix) for ix in config.indices.values()})
    for name, body in wanted.items():
        current = esio.get_index_template(es, name)
        if current is None or current.get("version") != body.get("version") or _template_differs(current, body):
            verb = "install" if current is None else "update"
            steps.append((f"{verb} index template {name} (version {body['version']})",
                          lambda n=name, b=body: esio.put_index_template(es, n, b)))
    for name in script_names():
        sid = script_id(name)
        if esio.get_stored_script(es, sid) != script_source(name):
            steps.append((f"install stored script {sid}", lambda s=sid, n=name: esio.put_stored_script(es, s, script_source(n))))
    for name in SYSTEM_INDICES:
        if not esio.index_exists(es, name):
            # exist_ok: another process (a second migrate, a writer whose first write created it) may win the race
            steps.append((f"create system index {name}", lambda n=name: esio.create_index(es, n, exist_ok=True)))
            continue
        have = esio.get_mapping(es, name).get("properties", {})
        missing = missing_fields(have, wanted[name]["template"]["mappings"].get("properties", {}))
        if missing:
            steps.append((f"add fields {', '.join(sorted(missing))} to system index {name}",
                          lambda n=name, m=missing: esio.put_mapping(es, n, m)))
    for ix in config.indices.values():
        steps += catalog_steps(es, ix)
    return steps


def catalog_steps(es: Elasticsearch, index: IndexConfig) -> list[tuple[str, Callable[[], None]]]:
    """(description, action) that bring the live index behind ``index``'s alias up to date in place: lrr-es
    fields added since it was created (additive, no reindex) and the merge settings."""
    targets = esio.alias_targets(es, index.name)
    if len(targets) != 1:
        return []  # none yet (migrate creates it), or a broken alias plan() reports
    current = targets[0]
    steps: list[tuple[str, Callable[[], None]]] = []
    missing = missing_fields(esio.get_mapping(es, current).get("properties", {}), lrr_field_mappings())
    settings = esio.get_settings(es, current)
    defined = {name for kind in ("analyzer", "normalizer") for name in settings.get("analysis", {}).get(kind, {})}
    unanalysable = sorted(name for name, spec in missing.items() if not _own_analysis(spec) <= defined)
    if unanalysable:  # an app's own index without lrr-es's analyzers: those fields wait for a reindex
        log.warning("catalog index %s lacks lrr-es's analyzers; fields %s are not added in place (a migration "
                    "that reindexes adds them)", current, ", ".join(unanalysable))
        missing = {name: spec for name, spec in missing.items() if name not in unanalysable}
    if missing:
        steps.append((f"add fields {', '.join(sorted(missing))} to catalog index {current}",
                      lambda m=missing: esio.put_mapping(es, current, m)))
    wanted = merge_settings()
    policy = settings.get("merge", {}).get("policy", {})
    if any(str(policy.get(name.rsplit(".", 1)[1])) != value for name, value in wanted.items()):
        steps.append((f"set {', '.join(f'{k}={v}' for k, v in wanted.items())} on catalog index {current}",
                      lambda: esio.put_settings(es, current, wanted)))
    return steps


@dataclass(frozen=True)
class Installed:
    """One template or stored script lrr-es ships, as installed on the cluster."""

    kind: str  # "index template" | "stored script"
    name: str
    installed: str  # the installed version (templates), "same"/"different" (scripts), or "missing"
    shipped: str
    current: bool


def installed_vs_shipped(es: Elasticsearch, config: Config) -> list[Installed]:
    """Every template and stored script this lrr-es ships next to what the cluster has (reads only)."""
    rows = []
    wanted = {name: system_template(name) for name in SYSTEM_INDICES}
    wanted.update({f"lrr-catalog-{ix.name}": catalog_template(ix) for ix in config.indices.values()})
    for name, body in wanted.items():
        current = esio.get_index_template(es, name)
        have = "missing" if current is None else str(current.get("version"))
        ok = current is not None and current.get("version") == body["version"] and not _template_differs(current, body)
        rows.append(Installed("index template", name, have, str(body["version"]), ok))
    for name in script_names():
        stored = esio.get_stored_script(es, script_id(name))
        have = "missing" if stored is None else ("same" if stored == script_source(name) else "different")
        rows.append(Installed("stored script", script_id(name), have, "this release", have == "same"))
    return rows


def index_versions(es: Elasticsearch, alias: str) -> list[tuple[str, int, bool]]:
    """(index, documents, behind the alias now) of every ``<alias>-v<N>``, oldest first."""
    live = set(esio.alias_targets(es, alias))
    names = sorted((n for n in esio.list_indices(es, f"{alias}-v*") if version_of(n, alias) is not None),
                   key=lambda n: version_of(n, alias))
    return [(n, esio.count(es, n), n in live) for n in names]

def _own_analysis(spec: dict) -> set[str]:
    """The lrr-es analyzers and normalizers (``lrr_*``) a field mapping names, its sub-fields' included."""
    found = {v for k, v in spec.items() if k in ("analyzer", "search_analyzer", "normalizer") and str(v).startswith("lrr_")}
    for inner in ("fields", "properties"):
        for sub in (spec.get(inner) or {}).values():
            found |= _own_analysis(sub)
    return found


def missing_fields(have: dict, want: dict) -> dict:
    """The mapping properties of ``want`` that ``have`` lacks (pure; recurses into object fields).

    Additive only: a field mapped differently in ``have`` is left alone (Elasticsearch cannot change
    a field's type in place; that takes a reindex), so an existing system index gains the fields a
    newer template introduced and keeps everything it holds.
    """
    out = {}
    for name, spec in want.items():
        if name not in have:
            out[name] = spec
        elif "properties" in spec and "properties" in have[name]:
            inner = missing_fields(have[name]["properties"], spec["properties"])
            if inner:
                out[name] = {"properties": inner}
    return out


def _template_differs(current: dict, wanted: dict) -> bool:
    keys = ("index_patterns", "priority", "_meta")
    return any(current.get(k) != wanted.get(k) for k in keys if k in wanted)


# --- planning ----------------------------------------------------------------------------------

def plan(es: Elasticsearch, index: IndexConfig, force_reindex: bool = False) -> MigrationPlan:
    """Decide what migrating ``index`` means on this cluster, without changing anything."""
    alias = index.name
    targets = esio.alias_targets(es, alias)
    if targets:
        if len(targets) != 1:
            raise MigrationError(f"alias {alias} points at {len(targets)} indices {targets}; fix it by hand first")
        current = targets[0]
        n = version_of(current, alias)
        if n is None:
            raise MigrationError(f"alias {alias} points at {current}, which is not named {alias}-v<N>")
        schema = (esio.get_mapping(es, current).get("_meta") or {}).get("lrr", {}).get("schema_version")
        if schema == template_version("catalog") and not force_reindex:
            return MigrationPlan(alias, "up-to-date", current, None, [f"{current} has schema version {schema}"])
        target = f"{alias}-v{_next_version(es, alias, n)}"
        return MigrationPlan(alias, "reindex", current, target, [
            f"create {target} from template lrr-catalog-{alias} (schema {template_version('catalog')})",
            f"block writes on {current} and copy every document into {target} (transform: popularity, Q2E seeds)",
            f"check that {target} holds as many documents as {current}, else stop",
            f"swap alias {alias}: {current} -> {target} (atomic); keep {current} for rollback",
        ])
    if esio.index_exists(es, alias):
        return MigrationPlan(alias, "adopt", alias, f"{alias}-v1", [
            f"block writes on the app's index {alias} and clone it to {alias}-v0 (rollback target)",
            f"create {alias}-v1 with the app's mapping plus lrr-es fields (q2e, popularity rank_feature)",
            f"copy every document into {alias}-v1, check counts",
            f"replace index {alias} by alias {alias} -> {alias}-v1 in one atomic step",
        ])
    return MigrationPlan(alias, "create", None, f"{alias}-v1", [f"create {alias}-v1 and alias {alias} -> {alias}-v1"])


def _next_version(es: Elasticsearch, alias: str, current: int) -> int:
    versions = [version_of(name, alias) for name in esio.list_indices(es, f"{alias}-v*")]
    return max([current, *(v for v in versions if v is not None)]) + 1


# --- running ----------------------------------------------------------------------------------

def migrate(es: Elasticsearch, config: Config, alias: str | None = None, dry_run: bool = False,
            force_reindex: bool = False, progress: bool = True, echo: Echo = print) -> list[MigrationPlan]:
    """Bring templates, scripts, system indices and the catalog alias(es) up to date.

    Refuses at once (MissingCapabilityError) a node that lacks a module lrr-es needs.
    """
    esio.require(es)
    indices = [config.index(alias)] if alias else list(config.indices.values())
    steps = setup_steps(es, config)
    plans = [plan(es, ix, force_reindex) for ix in indices]
    for description, _ in steps:
        echo(("would " if dry_run else "") + description)
    for p in plans:
        echo(("plan " if dry_run else "") + p.describe())
    if dry_run:
        return plans
    for _, action in steps:
        action()
    for ix, p in zip(indices, plans):
        _run(es, ix, p, progress, echo)
    return plans


def _run(es: Elasticsearch, index: IndexConfig, p: MigrationPlan, progress: bool, echo: Echo) -> None:
    started = time.monotonic()
    if p.action == "up-to-date":
        return
    if p.action == "create":
        esio.create_index(es, p.target, {"mappings": {"_meta": _meta(index, 1, None, index.fields.popularity)}})
        esio.update_aliases(es, [{"add": {"index": p.target, "alias": p.alias, "is_write_index": True}}])
    else:
        blocked = p.alias if p.action == "adopt" else p.source
        esio.block_writes(es, blocked)
        swapped = False
        try:  # whatever fails before the swap, the app gets its writable index back
            if p.action == "adopt":
                backup = f"{p.alias}-v0"
                esio.delete_index(es, backup)  # a leftover of an earlier attempt is stale: the app kept writing
                esio.clone_index(es, p.alias, backup)
                esio.wait_for_health(es, "yellow", 60, backup)
                body, feature = _app_index_body(es, p.alias, index, 1, p.alias)
                release = [{"remove_index": {"index": p.alias}}]
                p.source = backup
            else:
                version = version_of(p.target, p.alias)
                source_meta = (esio.get_mapping(es, p.source).get("_meta") or {}).get("lrr", {})
                if source_meta.get("adopted"):  # keep the app's own mapping and analysis
                    body, feature = _app_index_body(es, p.source, index, version, p.source)
                else:
                    feature = source_meta.get("popularity_feature", index.fields.popularity)
                    body = {"mappings": {"_meta": _meta(index, version, p.source, feature)}}
                release = [{"remove": {"index": p.source, "alias": p.alias}}]
            esio.create_index(es, p.target, body)
            _copy_and_swap(es, index, p, feature, release, progress)
            swapped = True
        finally:
            if not swapped:
                esio.unblock_writes(es, blocked)
    p.seconds = time.monotonic() - started
    echo(f"{p.alias}: {p.action} done in {p.seconds:.1f}s" + (f", {p.copied} documents copied" if p.copied else ""))


def _app_index_body(es: Elasticsearch, source: str, index: IndexConfig, version: int, origin: str) -> tuple[dict, str | None]:
    """Create-index body that keeps an app index's own mapping and analysis, plus lrr-es fields."""
    app_mapping = esio.get_mapping(es, source)
    feature = _adopted_feature(app_mapping, index)
    meta = _meta(index, version, origin, feature)
    meta["lrr"]["adopted"] = True
    mappings = {**app_mapping, "properties": {**app_mapping.get("properties", {}), **_adoption_fields(feature, index)},
                "_meta": meta}
    return {"settings": {"analysis": _merged_analysis(es, source), **merge_settings()}, "mappings": mappings}, feature


def _copy_and_swap(es: Elasticsearch, index: IndexConfig, p: MigrationPlan, feature: str | None, release: list[dict],
                   progress: bool) -> None:
    """Copy p.source into p.target, compare counts, swap the alias. Writes to p.source must be blocked."""
    p.copied = _copy(es, index, p.source, p.target, feature, progress)
    esio.refresh(es, p.target)
    have, want = esio.count(es, p.target), esio.count(es, p.source)
    if have != want:
        raise MigrationError(f"{p.target} holds {have} documents but {p.source} holds {want}; alias {p.alias} "
                             f"not swapped ({p.target} kept for inspection)")
    esio.update_aliases(es, release + [{"add": {"index": p.target, "alias": p.alias, "is_write_index": True}}])


def _copy(es: Elasticsearch, index: IndexConfig, source: str, target: str, feature: str, progress: bool) -> int:
    total = esio.count(es, source)
    actions = (
        {"_op_type": "index", "_index": target, "_id": hit["_id"],
         "_source": index_document(hit["_source"], index, feature, seed=True)}
        for hit in esio.scan(es, source)
    )
    copied, failures = 0, []
    with tqdm(total=total, desc=f"reindex {source} -> {target}", unit="doc", disable=None if progress else True, mininterval=0.5) as bar:
        for ok, item in esio.bulk(es, actions):
            if ok:
                copied += 1
            else:
                failures.append(item)
            bar.update(1)
    if failures:
        first = next(iter(failures[0].values()))
        raise MigrationError(f"{len(failures)} documents could not be copied into {target}; first: "
                             f"id {first.get('_id')}: {first.get('error')}")
    return copied


def _meta(index: IndexConfig, version: int, source: str | None, feature: str | None) -> dict:
    return {"lrr": {"schema_version": template_version("catalog"), "alias": index.name, "version": version,
                    "source": source, "popularity_feature": feature, "migrated_at": int(time.time() * 1000)}}


def _adopted_feature(app_mapping: dict, index: IndexConfig) -> str | None:
    name = index.fields.popularity
    props = app_mapping.get("properties", {})
    kind = props.get(name or "", {}).get("type")
    if name is None or kind is None:
        return name
    if kind == "rank_feature":
        return name
    if props.get(ADOPTED_POPULARITY_FEATURE, {}).get("type") == "rank_feature":
        return ADOPTED_POPULARITY_FEATURE
    if kind in _NUMERIC:
        return ADOPTED_POPULARITY_FEATURE
    raise MigrationError(f"field {name} (popularity) is mapped as {kind}; map a numeric field as popularity in the config")


def _adoption_fields(feature: str | None, index: IndexConfig) -> dict:
    fields = lrr_field_mappings()
    if feature and feature != index.fields.popularity:
        fields[feature] = {"type": "rank_feature"}
    return fields


def _merged_analysis(es: Elasticsearch, app_index: str) -> dict:
    app = esio.get_settings(es, app_index).get("analysis", {})
    merged = catalog_analysis()
    for section, entries in app.items():
        merged.setdefault(section, {}).update(entries)
    return merged


# --- rollback ----------------------------------------------------------------------------------

def rollback(es: Elasticsearch, alias: str, echo: Echo = print) -> tuple[str, str]:
    """Point ``alias`` back at the newest older version; the current index is kept."""
    targets = esio.alias_targets(es, alias)
    if len(targets) != 1 or version_of(targets[0], alias) is None:
        raise MigrationError(f"alias {alias} does not point at one {alias}-v<N> index (it points at {targets or 'nothing'})")
    current = targets[0]
    n = version_of(current, alias)
    older = sorted(v for v in (version_of(i, alias) for i in esio.list_indices(es, f"{alias}-v*")) if v is not None and v < n)
    if not older:
        raise MigrationError(f"no version of {alias} older than {current} to roll back to")
    previous = f"{alias}-v{older[-1]}"
    esio.unblock_writes(es, previous)
    esio.update_aliases(es, [{"remove": {"index": current, "alias": alias}},
                             {"add": {"index": previous, "alias": alias, "is_write_index": True}}])
    esio.put_settings(es, current, {"index.blocks.write": True})
    echo(f"{alias}: rolled back {current} -> {previous} ({current} kept, write-blocked)")
    return current, previous
