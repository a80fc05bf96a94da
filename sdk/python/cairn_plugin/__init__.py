"""Write Cairn plugins in Python: domain code only.

Decorate a class or a function, take and return plain dicts, and raise
`Rejected` or `Invalid` when a command or an event cannot be accepted. The
SDK owns the rest: the generated bindings, the JSON text on the boundary,
batches, and turning exceptions into the contract's errors.

    from cairn_plugin import aggregate, Rejected

    @aggregate(type="counter")
    class Counter:
        def initial_state(self, aggregate_id):
            return {"value": 0}

        def apply(self, state, event):
            state["value"] += event["payload"]["amount"]
            return state

        def decide(self, state, command):
            if command["payload"]["amount"] <= 0:
                raise Rejected("the amount must be positive")
            return [("Added", {"amount": command["payload"]["amount"]})]

`cairn_plugin.testing` runs the same code in plain CPython, in
given/when/then form, with no WebAssembly.
"""

from ._errors import Invalid, PluginError, Rejected
from ._registry import aggregate, handler, migrator, step

__all__ = ["aggregate", "migrator", "handler", "step", "Rejected", "Invalid", "PluginError"]
