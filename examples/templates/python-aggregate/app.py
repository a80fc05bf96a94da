"""A Cairn aggregate in Python: a counter. Replace the state, events and
commands with your domain's. Raise Rejected when a business rule refuses a
command, Invalid when the input cannot be understood."""

from cairn_plugin import Invalid, Rejected, aggregate


@aggregate(type="counter")
class Counter:
    def initial_state(self, aggregate_id):
        return {"value": 0}

    def apply(self, state, event):
        if event["event_type"] != "Added":
            raise Invalid(f"unknown event type {event['event_type']}")
        state["value"] += event["payload"]["amount"]
        return state

    def decide(self, state, command):
        if command["command_type"] != "Add":
            raise Invalid(f"unknown command {command['command_type']}; use Add")
        amount = command["payload"].get("amount")
        if not isinstance(amount, int) or amount <= 0:
            raise Rejected("the amount must be a positive whole number")
        return [("Added", {"amount": amount})]
