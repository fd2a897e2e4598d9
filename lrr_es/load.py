"""Bulk loading of catalog documents into a migrated index (through its alias).

Rows come from :mod:`lrr_es.catalog` readers as ParsedRow records; bad rows are reported with
their file, line and reason, skipped and counted, and never stop the load.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from elasticsearch import Elasticsearch
from tqdm import tqdm

from . import es as esio
from .catalog.document import index_document
from .catalog.rows import ParsedRow
from .config import IndexConfig
from .errors import LoadError

Echo = Callable[[str], None]


@dataclass
class LoadReport:
    """What a load did: documents indexed, rows skipped (with reasons), rejections, speed."""

    indexed: int = 0
    bad_rows: list[tuple[str, int, str]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def docs_per_second(self) -> float:
        return self.indexed / self.seconds if self.seconds > 0 else 0.0

    def summary(self, show: int = 10) -> str:
        lines = [f"indexed {self.indexed} documents in {self.seconds:.1f}s ({self.docs_per_second:,.0f} docs/s); "
                 f"{len(self.bad_rows)} bad rows skipped; {len(self.rejected)} rejected by Elasticsearch"]
        lines += [f"  bad row {src}:{line}: {reason}" for src, line, reason in self.bad_rows[:show]]
        lines += [f"  rejected {doc_id}: {reason}" for doc_id, reason in self.rejected[:show]]
        hidden = max(0, len(self.bad_rows) - show) + max(0, len(self.rejected) - show)
        if hidden:
            lines.append(f"  ... and {hidden} more")
        return "\n".join(lines)


def load_rows(es: Elasticsearch, index: IndexConfig, rows: Iterable[ParsedRow], total: int | None = None,
              progress: bool = True, chunk_size: int = 1000, refresh: bool = True, threads: int = 2) -> LoadReport:
    """Index every good row into ``index.name``; returns the report. Raises LoadError when the alias is missing."""
    targets = esio.alias_targets(es, index.name)
    if not targets:
        raise LoadError(f"{index.name} is not a migrated alias yet: run `lrr-es migrate --index {index.name}` first")
    feature = (esio.get_mapping(es, targets[0]).get("_meta") or {}).get("lrr", {}).get("popularity_feature",
                                                                                         index.fields.popularity)
    report = LoadReport()
    started = time.monotonic()
    with tqdm(total=total, desc=f"load {index.name}", unit="doc", disable=None if progress else True, mininterval=0.5) as bar:
        actions = _actions(rows, index, feature, report, bar)
        for ok, item in esio.bulk(es, actions, chunk_size=chunk_size, threads=threads):
            if ok:
                report.indexed += 1
            else:
                result = next(iter(item.values()))
                report.rejected.append((str(result.get("_id")), _error_text(result.get("error"))))
    if refresh:
        esio.refresh(es, index.name)
    report.seconds = time.monotonic() - started
    return report


def _actions(rows: Iterable[ParsedRow], index: IndexConfig, feature: str | None, report: LoadReport, bar) -> Iterator[dict]:
    for row in rows:
        bar.update(1)
        if row.error is not None or row.doc is None:
            report.bad_rows.append((row.source, row.line, row.error or "empty row"))
            continue
        yield {"_op_type": "index", "_index": index.name, "_id": str(row.doc["id"]),
               "_source": index_document(row.doc, index, feature)}


def _error_text(error) -> str:
    if isinstance(error, dict):
        reason = error.get("reason", "")
        cause = (error.get("caused_by") or {}).get("reason")
        return f"{error.get('type')}: {reason}" + (f" ({cause})" if cause else "")
    return str(error)
