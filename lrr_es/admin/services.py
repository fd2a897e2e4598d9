"""What the views share: the configuration, one Elasticsearch client, one engine, the acting user."""
from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from flask import abort, current_app, request
from flask_login import current_user

from ..audit import Actor
from ..config import Config
from ..errors import ConfigError, QueryError
from .jobs import Jobs


class Panel:
    """The panel's connection to lrr-es, made on first use (the app starts while the node is down)."""

    def __init__(self, config: Config, es: Any = None) -> None:
        self.config = config
        self._es = es
        self._engine = None
        self._lock = threading.Lock()
        self.jobs = Jobs()  # background work started from the panel (training)

    @property
    def es(self) -> Any:
        with self._lock:
            if self._es is None:
                from ..es import connect
                self._es = connect(self.config.elasticsearch.url, self.config.elasticsearch.timeout)
            return self._es

    @property
    def engine(self) -> Any:
        """An engine for the query debugger: it logs no decisions (a debugging search is not traffic
        to learn from), re-reads the live policy and ranker at every search (a promotion shows at once)
        and computes the ranking features also while RRF serves (the page shows them)."""
        es = self.es
        with self._lock:
            if self._engine is None:
                from ..engine import LrrEngine
                config = replace(self.config, ranker=replace(self.config.ranker, always_features=True))
                self._engine = LrrEngine(es, config, refresh_s=0, decisions=False)
            return self._engine


def panel() -> Panel:
    return current_app.extensions["lrr"]


def actor() -> Actor:
    """The logged-in user, as the audit trail names them."""
    return Actor(current_user.get_id(), "admin")


def chosen_index(field: str = "index") -> str:
    """The configured index a request names (in the query string or the form; default: the first one); 404 otherwise."""
    config = panel().config
    name = request.values.get(field) or next(iter(config.indices))
    try:
        return config.index(name).name
    except ConfigError as exc:
        abort(404, description=str(exc))


def version_arg() -> int | None:
    """The ``version`` a request names (a positive whole number), or None; QueryError otherwise."""
    text = request.values.get("version", "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise QueryError(f"version must be a positive whole number, got {text[:40]!r}")
    return int(text)
