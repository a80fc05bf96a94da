"""A Cairn migrator in Python: raises Added events from 1.0 to 2.0 by adding
a unit to their payload. Replace the steps and the function with yours."""

from cairn_plugin import Invalid, migrator, step


@migrator(steps=[step("Added", "1.0", "2.0")])
def add_unit(payload):
    if not isinstance(payload, dict) or "amount" not in payload:
        raise Invalid("an Added payload needs amount")
    return {**payload, "unit": "each"}
