"""UBI events in, lrr-es feedback arguments out (literal events from the UBI schema's shapes)."""
import pytest

from lrr_es.errors import FeedbackError
from lrr_es.feedback.ubi import ubi_feedback

EVENT = {"application": "music-app", "action_name": "click", "query_id": "5f1c", "session_id": "s-9",
         "client_id": "browser-1", "timestamp": "2026-12-01T10:00:00Z", "message_type": "INFO",
         "user_query": "love story",
         "event_attributes": {"object": {"object_id": "song:42", "object_id_field": "_id"},
                              "position": {"ordinal": 3}}}


def test_a_ubi_click_becomes_feedback_on_the_search_it_came_from():
    assert ubi_feedback(EVENT) == {"search_id": "5f1c", "doc_id": "song:42", "action": "click", "position": 3,
                                   "session_id": "s-9", "timestamp": "2026-12-01T10:00:00Z"}


def test_ordinal_as_an_object_client_id_as_the_session_and_an_event_id_are_read():
    event = {**EVENT, "session_id": None, "event_id": "e-1",
             "event_attributes": {"object": {"object_id": "song:42"}, "position": {"ordinal": {"index": 7}}}}
    assert ubi_feedback(event) == {"search_id": "5f1c", "doc_id": "song:42", "action": "click", "position": 7,
                                   "session_id": "browser-1", "timestamp": "2026-12-01T10:00:00Z", "event_id": "e-1"}


@pytest.mark.parametrize("event, message", [
    ([1], "must be a JSON object"),
    ({"action_name": "click", "query_id": "q"}, "object_id"),
    ({**EVENT, "event_attributes": "x"}, "event_attributes must be an object"),
    ({**EVENT, "event_attributes": {"object": {"object_id": "a"}, "position": 3}}, "position must be an object"),
])
def test_malformed_ubi_events_are_named(event, message):
    with pytest.raises(FeedbackError, match=message):
        ubi_feedback(event)
