from cairn_plugin.testing import HandlerTest

from app import count_event_types


def test_events_are_counted_per_type():
    test = HandlerTest(count_event_types)
    test.given("counter", "c-1", [("Added", {"amount": 1}), ("Added", {"amount": 2}), ("Reset", {})])
    test.then_document("counts", "Added", 2).then_document("counts", "Reset", 1)
