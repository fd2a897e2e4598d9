"""Where the simulator's catalog comes from: the sample, MusicOSet, or a catalog file."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..catalog import read_catalog, sample_catalog
from ..errors import LoadError

MUSICOSET_ENV = "LRR_MUSICOSET"
_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".tsv": "tsv"}


@dataclass(frozen=True)
class CatalogSource:
    """The documents of a source, and how many rows of it were unusable."""

    name: str
    docs: list[dict]
    bad_rows: int = 0


def read_source(source: str, sample_size: int = 2000, sample_seed: int = 7) -> CatalogSource:
    """The documents named by ``source``.

    ``"sample"`` is the synthetic catalog (``sample_size`` songs, ``sample_seed``); ``"musicoset"``
    is the directory in $LRR_MUSICOSET; anything else is a path: a directory in the MusicOSet layout
    or a ``.jsonl``/``.csv``/``.tsv`` file. Bad rows are skipped and counted. LoadError otherwise.
    """
    if source == "sample":
        return CatalogSource(f"sample({sample_size} songs, seed {sample_seed})", sample_catalog(sample_size, sample_seed))
    if source == "musicoset":
        root = os.environ.get(MUSICOSET_ENV)
        if not root:
            raise LoadError(f"--source musicoset reads the directory in ${MUSICOSET_ENV}, which is not set; "
                            "set it or pass the MusicOSet directory itself")
        return _read(Path(root), "musicoset")
    path = Path(source)
    if path.is_dir():
        return _read(path, "musicoset")
    if not path.exists():
        raise LoadError(f"catalog source not found: {source} (use 'sample', 'musicoset' or a path)")
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise LoadError(f"cannot tell the format of {source}: expected a MusicOSet directory or a file ending in "
                        f"{', '.join(_FORMATS)}")
    return _read(path, fmt)


def _read(path: Path, fmt: str) -> CatalogSource:
    docs, bad = [], 0
    for row in read_catalog(path, fmt):
        if row.ok:
            docs.append(row.doc)
        else:
            bad += 1
    return CatalogSource(str(path), docs, bad)
