from cairn_plugin.testing import AggregateTest

from app import Counter


def test_adding_records_an_event():
    AggregateTest(Counter).given([("Added", {"amount": 1})]).when("Add", {"amount": 2}).then_events([("Added", {"amount": 2})])


def test_zero_is_rejected_and_an_unknown_command_is_invalid():
    AggregateTest(Counter).when("Add", {"amount": 0}).then_rejected("positive whole number")
    AggregateTest(Counter).when("Reset", {}).then_invalid("unknown command Reset")
