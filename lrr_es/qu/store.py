"""Building the gazetteer from an index and keeping it in ``lrr-models`` (through lrr_es.es).

The gazetteer of alias ``music`` is the lrr-models document ``gazetteer-music`` (kind
"gazetteer"); every rebuild bumps its version. Serving processes read it through a
:class:`GazetteerCache` (a :class:`lrr_es.models.ModelCache`), which re-reads the version after a
TTL and the artifact only when the version changed.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass
from typing import Callable

from elasticsearch import Elasticsearch

from .. import es as esio
from ..config import IndexConfig
from .. import models
from ..errors import QueryError
from ..models import ModelCache
from ..names import MODELS_INDEX
from .gazetteer import Gazetteer, derived_aliases, numeric_roles, role_fields

KIND = "gazetteer"


def model_id(alias: str) -> str:
    """The lrr-models document id of the gazetteer of ``alias``."""
    return f"gazetteer-{alias}"


@dataclass(frozen=True)
class RebuildReport:
    """What a rebuild stored: the gazetteer (with its new version) and how long it took."""

    gazetteer: Gazetteer
    seconds: float

    def summary(self) -> str:
        """One line per role with its value count, then the total and time."""
        g = self.gazetteer
        lines = [f"gazetteer {model_id(g.index)} version {g.version}: {g.total} documents, {self.seconds:.2f}s"]
        for role, size in g.slot_sizes().items():
            aliases = len(g.aliases.get(role, {}))
            lines.append(f"  {role:<12} {size:>7} values" + (f" (+{aliases} surface forms)" if aliases else "")
                         + f"  from {g.fields.get(role, '?')}")
        return "\n".join(lines)


def build_gazetteer(es: Elasticsearch, index: IndexConfig) -> Gazetteer:
    """Read every value of the slot fields of ``index.name`` (composite aggregations) into a Gazetteer.

    A role that reads several fields (music's genre: genre and main_genre) takes the values of the
    first, then those of the others it lacks, with their own counts. Raises QueryError when the index
    does not exist.
    """
    if not esio.index_exists(es, index.name):
        raise QueryError(f"cannot build a gazetteer: index or alias {index.name!r} does not exist")
    counts: dict[str, dict[str, int]] = {}
    for role, named in index.fields.slot_fields().items():
        values = counts[role] = _values(es, index.name, named[0])
        for other in named[1:]:
            for value, count in _values(es, index.name, other).items():
                values.setdefault(value, count)
    counts = {role: values for role, values in counts.items() if values}
    total = esio.count(es, index.name)
    return Gazetteer(index=index.name, counts=counts, total=total, fields=role_fields(index.fields),
                     aliases=derived_aliases(counts), numeric=numeric_roles(index.fields))


def _values(es: Elasticsearch, index: str, field: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for value, count in esio.composite_counts(es, index, field):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        if text:
            out[text] = out.get(text, 0) + count
    return out


def save_gazetteer(es: Elasticsearch, gazetteer: Gazetteer, refresh: bool | str = "wait_for") -> Gazetteer:
    """Store ``gazetteer`` as the next version of its lrr-models document; returns it with that version."""
    version = stored_version(es, gazetteer.index) + 1
    stored = dataclasses.replace(gazetteer, version=version)
    doc = {"model_id": model_id(stored.index), "kind": KIND, "index": stored.index, "version": version,
           "status": "live", "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
           "params": {"total": stored.total, "fields": dict(stored.fields), "values": stored.slot_sizes()},
           "artifact": stored.to_artifact()}
    esio.put_document(es, MODELS_INDEX, model_id(stored.index), doc, refresh=refresh)
    return stored


def rebuild_gazetteer(es: Elasticsearch, index: IndexConfig) -> RebuildReport:
    """Build the gazetteer of ``index`` from its documents and store it (the CLI's ``gazetteer rebuild``)."""
    started = time.monotonic()
    stored = save_gazetteer(es, build_gazetteer(es, index))
    return RebuildReport(stored, time.monotonic() - started)


def stored_version(es: Elasticsearch, alias: str) -> int:
    """The version of the stored gazetteer of ``alias``; 0 when there is none."""
    return models.stored_version(es, model_id(alias))


def load_gazetteer(es: Elasticsearch, alias: str) -> Gazetteer | None:
    """The stored gazetteer of ``alias``, or None when it was never built."""
    doc = esio.get_source(es, MODELS_INDEX, model_id(alias)) if esio.index_exists(es, MODELS_INDEX) else None
    if doc is None:
        return None
    if doc.get("kind") != KIND or not doc.get("artifact"):
        raise QueryError(f"lrr-models document {model_id(alias)!r} is not a gazetteer (kind {doc.get('kind')!r})")
    return Gazetteer.from_artifact(doc["artifact"], version=int(doc.get("version", 0)))


class GazetteerCache(ModelCache):
    """The :class:`lrr_es.models.ModelCache` of stored gazetteers: within ``ttl`` seconds of the last
    check the cached one is returned without I/O; after that the stored version is read and the
    artifact reloaded only when the version changed."""

    def __init__(self, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(load_gazetteer, stored_version, ttl, clock)
