"""A small music search app written against plain elasticsearch-py: a search box, filters, facets,
paging and a click endpoint that logs User Behavior Insights events to its own index.

Run it (after `bash scripts/demo.sh`, which leaves a node with the sample catalog on 127.0.0.1:9200):

    .venv/bin/python examples/music_app.py        # then open http://127.0.0.1:8480/?q=love

Adopting lrr-es changes ONE line, the client (see make_client below):

    es = Elasticsearch(ES_URL)                                        # before
    es = LrrClient(Elasticsearch(ES_URL), load_config(LRR_CONFIG))   # after: the app's search learns

Nothing else changes: searches the engine can serve learn from the clicks (the UBI events the app
already writes to `ubi_events`), everything else goes to Elasticsearch as before.
"""
from __future__ import annotations

import html
import os
import time
import uuid

from elasticsearch import Elasticsearch
from flask import Flask, jsonify, request

ES_URL = os.environ.get("ES_URL", "http://127.0.0.1:9200")
INDEX = os.environ.get("MUSIC_INDEX", "music")
PAGE = 10


def make_client(learn: bool = False):
    """The app's Elasticsearch client. ``learn`` shows the one-line change (the demo runs both)."""
    if not learn:
        return Elasticsearch(ES_URL)
    from lrr_es import LrrClient, load_config  # with the change, these two names are imported at the top
    return LrrClient(Elasticsearch(ES_URL), load_config(os.environ.get("LRR_CONFIG")))


def search_body(q: str, genre: str | None = None, decade: str | None = None, page: int = 1) -> dict:
    """The app's own query: a multi_match over title and artist, filters, facets, highlight, paging."""
    filters = [{"term": {"genre": genre}}] if genre else []
    if decade:
        filters.append({"term": {"decade": decade}})
    return {"query": {"bool": {"must": [{"multi_match": {"query": q, "fields": ["title^2", "artist"]}}],
                               "filter": filters}},
            "aggs": {"genre": {"terms": {"field": "genre", "size": 8}},
                     "decade": {"terms": {"field": "decade", "size": 8}}},
            "highlight": {"fields": {"title": {}}}, "_source": ["title", "artist", "year", "genre"],
            "from": (page - 1) * PAGE, "size": PAGE}


def search(es, q: str, genre: str | None = None, decade: str | None = None, page: int = 1) -> dict:
    """One results page: hits, facets, total and a query id for the click log."""
    response = es.search(index=INDEX, body=search_body(q, genre, decade, page))
    # a UBI query id: the search id lrr-es returns when it served the search, else the app's own
    query_id = (response.get("lrr") or {}).get("search_id") or uuid.uuid4().hex
    hits = [{"id": h["_id"], "title": h["_source"].get("title"), "artist": h["_source"].get("artist"),
             "year": h["_source"].get("year"), "highlight": (h.get("highlight") or {}).get("title", [None])[0]}
            for h in response["hits"]["hits"]]
    facets = {name: [(b["key"], b["doc_count"]) for b in agg["buckets"]]
              for name, agg in response["aggregations"].items()}
    return {"query_id": query_id, "total": response["hits"]["total"]["value"], "hits": hits, "facets": facets}


def log_click(es, query_id: str, doc_id: str, position: int, session_id: str, action: str = "click") -> None:
    """The app's click log: one UBI event in its own ubi_events index."""
    es.index(index="ubi_events", document={
        "application": "music-app", "action_name": action, "query_id": query_id, "session_id": session_id,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "event_attributes": {"object": {"object_id": doc_id, "object_id_field": "_id"},
                             "position": {"ordinal": position}}})


def create_app(es) -> Flask:
    app = Flask(__name__)

    @app.get("/api/search")
    def api_search():
        args = request.args
        return jsonify(search(es, args.get("q", ""), args.get("genre"), args.get("decade"), int(args.get("page", 1))))

    @app.post("/api/click")
    def api_click():
        data = request.get_json(force=True)
        log_click(es, data["query_id"], data["doc_id"], int(data["position"]), data.get("session_id", "anonymous"))
        return jsonify({"ok": True})

    @app.get("/")
    def page():
        q = request.args.get("q", "")
        if not q:
            return '<form><input name="q" autofocus><button>Search</button></form>'
        found = search(es, q, request.args.get("genre"), request.args.get("decade"))
        rows = "".join(f"<li>{html.escape(str(h['title']))} - {html.escape(str(h['artist']))} ({h['year']})</li>"
                       for h in found["hits"])
        return f"<p>{found['total']} results for {html.escape(q)}</p><ol>{rows}</ol>"

    return app


if __name__ == "__main__":
    create_app(make_client(learn=os.environ.get("LEARN") == "1")).run(host="127.0.0.1", port=8480)
