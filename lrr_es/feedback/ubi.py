"""Feedback in the shape of OpenSearch User Behavior Insights (UBI) events (pure).

An app that already logs UBI events feeds lrr-es with them unchanged. The fields read:

| UBI field | lrr-es feedback |
| --- | --- |
| ``query_id`` | ``search_id``: the ``lrr.search_id`` of the response the user acted on |
| ``action_name`` | ``action`` (one of ``feedback.weights``: click, like, play, ...) |
| ``event_attributes.object.object_id`` | ``doc_id``: the document's ``_id`` |
| ``event_attributes.position.ordinal`` (or ``.ordinal.index``) | ``position`` (1 = first hit) |
| ``session_id``, else ``client_id`` | ``session_id`` |
| ``timestamp`` | ``timestamp`` |
| ``event_id`` (when present) | ``event_id`` |

Everything else in the event (``application``, ``message``, ``user_query``, ...) is ignored.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..errors import FeedbackError


def ubi_feedback(event: Any) -> dict[str, Any]:
    """The feedback arguments (``FeedbackWriter.feedback_many`` form) of one UBI event."""
    if not isinstance(event, Mapping):
        raise FeedbackError(f"a UBI event must be a JSON object, got {type(event).__name__}")
    attributes = _object(event, "event_attributes")
    target = _object(attributes, "object", "event_attributes")
    doc_id = target.get("object_id")
    if doc_id is None:
        raise FeedbackError("UBI event without event_attributes.object.object_id (the document's _id)")
    out: dict[str, Any] = {"search_id": event.get("query_id"), "doc_id": doc_id, "action": event.get("action_name")}
    position = _ordinal(attributes.get("position"))
    if position is not None:
        out["position"] = position
    session = event.get("session_id") or event.get("client_id")
    if session is not None:
        out["session_id"] = session
    for key in ("timestamp", "event_id"):
        if event.get(key) is not None:
            out[key] = event[key]
    return out


def _object(parent: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any]:
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise FeedbackError(f"UBI {where + '.' if where else ''}{key} must be an object, got {type(value).__name__}")
    return value


def _ordinal(position: Any) -> Any:
    if position is None:
        return None
    if not isinstance(position, Mapping):
        raise FeedbackError(f"UBI event_attributes.position must be an object, got {type(position).__name__}")
    ordinal = position.get("ordinal", position.get("index"))
    return ordinal.get("index") if isinstance(ordinal, Mapping) else ordinal
