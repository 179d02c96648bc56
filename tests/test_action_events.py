"""What the actions send back: no event that changes nothing."""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SlotSet

from actions.common import changes


def test_slots_set_to_their_own_value_are_left_out():
    tracker = Tracker("c", {"service_code": "P1", "aspect": "fee", "options": [], "fallback_count": 0.0,
                       "service_kind": None},
                      {}, [], False, None, None, None)
    events = [SlotSet("service_code", "P1"), SlotSet("aspect", "materials"), SlotSet("options", []),
              SlotSet("fallback_count", 0), SlotSet("service_kind", None), SlotSet("unknown_slot", None),
              ActionExecuted("action_listen")]
    assert changes(tracker, events) == [SlotSet("aspect", "materials"), SlotSet("unknown_slot", None),
                                        ActionExecuted("action_listen")]
