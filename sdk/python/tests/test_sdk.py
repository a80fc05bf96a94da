"""The SDK's own behaviour, in plain CPython."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cairn_plugin import Invalid, Rejected, aggregate, handler, migrator, step  # noqa: E402
from cairn_plugin import _core  # noqa: E402
from cairn_plugin.testing import AggregateTest, HandlerTest, MigratorTest, PluginFailed  # noqa: E402


@aggregate(type="counter")
class Counter:
    def initial_state(self, aggregate_id):
        return {"id": aggregate_id, "value": 0}

    def apply(self, state, event):
        state["value"] += event["payload"]["amount"]
        state["last"] = [event["aggregate_type"], event["aggregate_id"], event["stream_version"]]

    def decide(self, state, command):
        if command["command_type"] == "Crash":
            raise ZeroDivisionError("a bug")
        if command["payload"].get("amount", 0) <= 0:
            raise Rejected("the amount must be positive")
        return [{"event_type": "Added", "payload": {"amount": command["payload"]["amount"]}, "schema_version": "2.0"}]


def test_apply_sees_its_stream_and_a_state_returned_as_none_is_kept():
    state = AggregateTest(Counter, "c-9").given([("Added", {"amount": 2}), ("Added", {"amount": 3})]).state()
    assert state == {"id": "c-9", "value": 5, "last": ["counter", "c-9", 2]}


def test_decide_answers_events_rejections_and_internal_errors():
    AggregateTest(Counter).when("Add", {"amount": 4}).then_events([("Added", {"amount": 4})])
    AggregateTest(Counter).when("Add", {"amount": 0}).then_rejected("must be positive")
    with pytest.raises(PluginFailed, match="internal: ZeroDivisionError: a bug"):
        AggregateTest(Counter).when("Crash", {}).then_rejected("")


def test_a_command_payload_that_is_not_json_is_invalid():
    AggregateTest(Counter).when("Add", "{not json").then_invalid("the command payload is not JSON")


def test_the_harness_fails_when_the_answer_differs():
    with pytest.raises(PluginFailed):
        AggregateTest(Counter).when("Add", {"amount": 4}).then_events([("Added", {"amount": 5})])


def test_a_class_without_decide_is_refused_at_decoration():
    with pytest.raises(TypeError, match="lacks decide"):

        @aggregate(type="broken")
        class Broken:
            def initial_state(self, aggregate_id):
                return {}

            def apply(self, state, event):
                return state


@migrator(steps=[step("Renamed", "1.0", "2.0"), ("Other", "1", "2")])
def rename(payload, event):
    if "old" not in payload:
        raise Invalid(f"{event['event_type']} has no old field")
    return {"new": payload["old"]}


def test_a_migrator_answers_per_event_and_names_each_failure():
    MigratorTest(rename, "Renamed", "1.0").given({"old": 1}).then_payload({"new": 1})
    MigratorTest(rename, "Renamed", "1.0").given({}).then_invalid("Renamed has no old field")
    answers = rename.__cairn_plugin__.migrate_batch('[{"event_type":"Other","schema_version":"1","payload":{"old":2}},{"event_type":"Other","schema_version":"9","payload":{}}]')
    assert answers[0] == '{"new":2}'
    assert isinstance(answers[1], Invalid) and "no step of this migrator reads Other at version 9" in answers[1].message


@handler(name="totals", event_types=["Added"])
class Totals:
    def handle(self, event, read_models):
        if event["payload"]["amount"] < 0:
            raise Invalid("negative")
        total = read_models.get("totals", event["aggregate_id"], 0)
        read_models.put("totals", event["aggregate_id"], total + event["payload"]["amount"])

    def end_batch(self, read_models):
        read_models.put("meta", "batches", read_models.get("meta", "batches", 0) + 1)


def test_a_handler_class_keeps_documents_and_a_failure_keeps_the_events_before_it():
    test = HandlerTest(Totals)
    test.given("counter", "c-1", [("Added", {"amount": 2}), ("Ignored", {}), ("Added", {"amount": 3})])
    test.then_document("totals", "c-1", 5).then_document("meta", "batches", 1)
    test.given("counter", "c-1", [("Added", {"amount": 1}), ("Added", {"amount": -1})])
    test.then_failed(1, "invalid", "negative").then_document("totals", "c-1", 6)


def test_classify_maps_every_exception():
    assert _core.classify(Rejected("no")) == ("rejected", "no")
    assert _core.classify(Invalid("bad")) == ("invalid", "bad")
    assert _core.classify(KeyError("x")) == ("internal", "KeyError: 'x'")
