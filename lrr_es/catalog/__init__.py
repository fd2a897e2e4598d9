"""Catalog loading: files (JSON Lines, CSV, TSV, MusicOSet) or a synthetic sample, as documents.

Every reader yields ``ParsedRow``s: a canonical-schema document, or the reason a row was skipped.
A file that cannot be read at all raises ``lrr_es.errors.LoadError``. What lrr-es indexes for each
document (popularity feature, phonetic keys, Q2E seeds) is :mod:`lrr_es.catalog.document`.
"""
from .musicoset import read_musicoset
from .readers import READERS, read_catalog, read_csv, read_jsonl
from .rows import DOC_FIELDS, ParsedRow, decade_of, make_doc
from .sample import sample_catalog, sample_rows

__all__ = [
    "DOC_FIELDS",
    "READERS",
    "ParsedRow",
    "decade_of",
    "make_doc",
    "read_catalog",
    "read_csv",
    "read_jsonl",
    "read_musicoset",
    "sample_catalog",
    "sample_rows",
]
