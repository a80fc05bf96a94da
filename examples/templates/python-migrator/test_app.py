from cairn_plugin.testing import MigratorTest

from app import add_unit


def test_an_added_event_gets_a_unit():
    MigratorTest(add_unit, "Added", "1.0").given({"amount": 2}).then_payload({"amount": 2, "unit": "each"})


def test_a_payload_without_amount_is_invalid():
    MigratorTest(add_unit, "Added", "1.0").given({}).then_invalid("needs amount")
