"""lrr-es: learning to rank and retrieve on top of Elasticsearch.

The public API: ``LrrClient`` (lrr_es.client, the drop-in wrapper of an app's Elasticsearch client),
``LrrEngine`` (lrr_es.engine) and ``load_config`` (lrr_es.config), imported on first use so that ``import lrr_es`` stays cheap (no Elasticsearch client, numpy or XGBoost).
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["LrrClient", "LrrEngine", "__version__", "load_config"]


def __getattr__(name: str) -> Any:
    """The public names, imported from their modules on first access."""
    if name == "LrrClient":
        from .client import LrrClient as value
    elif name == "LrrEngine":
        from .engine import LrrEngine as value
    elif name == "load_config":
        from .config import load_config as value
    else:
        raise AttributeError(f"module 'lrr_es' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
