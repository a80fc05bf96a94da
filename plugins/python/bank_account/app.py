"""A bank account in Python, with the rules of plugins/bank-account (Rust).

Amounts are whole cents. An account is opened once; deposits and
withdrawals need an open account and a positive amount; a withdrawal may
not overdraw; a closed account accepts nothing more. Its aggregate type is
`bank-account-py`, so that it can live in one store beside the Rust one;
`cairn bench plugins` runs `cairn exec` through both as whole processes.
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.aggregate import Info
from wit_world.imports.types import Error_Invalid, Error_Rejected, NewEvent


def rejected(message):
    return Err(Error_Rejected(message))


def invalid(message):
    return Err(Error_Invalid(message))


def parse(text, what):
    try:
        return json.loads(text)
    except ValueError as error:
        raise invalid(f"{what} is not JSON: {error}")


def amount_of(payload):
    amount = payload.get("amount") if isinstance(payload, dict) else None
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise invalid("the payload needs amount, a whole number of cents")
    if amount <= 0:
        raise rejected(f"the amount must be positive, got {amount}")
    return amount


def fold(state, event_type, payload):
    if event_type == "AccountOpened":
        state["status"] = "open"
        state["owner"] = payload["owner"]
    elif event_type == "MoneyDeposited":
        state["balance"] += payload["amount"]
        state["transactions"] += 1
    elif event_type == "MoneyWithdrawn":
        state["balance"] -= payload["amount"]
        state["transactions"] += 1
    elif event_type == "AccountClosed":
        state["status"] = "closed"
    else:
        raise invalid(f"the bank account does not know event type {event_type}")


def require_open(state):
    if state["status"] == "unopened":
        raise rejected("the account is not open")
    if state["status"] == "closed":
        raise rejected("the account is closed")


def event(event_type, payload):
    return NewEvent(event_type=event_type, schema_version="1.0", payload=json.dumps(payload, separators=(",", ":")))


class Aggregate(exports.Aggregate):
    def describe(self):
        return Info(aggregate_type="bank-account-py", state_version="1", snapshot_every=100)

    def initial_state(self, aggregate_id):
        return json.dumps({"status": "unopened", "owner": None, "balance": 0, "transactions": 0})

    def apply(self, state_text, events):
        state = parse(state_text, "the state")
        for stored in events:
            payload = parse(stored.payload, f"the payload of {stored.event_type}")
            try:
                fold(state, stored.event_type, payload)
            except (KeyError, TypeError) as error:
                raise invalid(f"{stored.event_type} {stored.id} lacks a field: {error}")
        return json.dumps(state, separators=(",", ":"))

    def decide(self, state_text, command):
        state = parse(state_text, "the state")
        payload = parse(command.payload, "the command payload")
        kind = command.command_type
        if kind == "Open":
            if state["status"] == "open":
                raise rejected("the account is already open")
            if state["status"] == "closed":
                raise rejected("the account is closed")
            owner = payload.get("owner") if isinstance(payload, dict) else None
            if not isinstance(owner, str):
                raise invalid("the payload needs owner, a string")
            if not owner.strip():
                raise rejected("an account needs an owner")
            return [event("AccountOpened", {"owner": owner})]
        if kind == "Deposit":
            require_open(state)
            return [event("MoneyDeposited", {"amount": amount_of(payload)})]
        if kind == "Withdraw":
            require_open(state)
            amount = amount_of(payload)
            if amount > state["balance"]:
                raise rejected(f"insufficient funds: the balance is {state['balance']}, the withdrawal {amount}")
            return [event("MoneyWithdrawn", {"amount": amount})]
        if kind == "Close":
            require_open(state)
            return [event("AccountClosed", {})]
        raise invalid(f"unknown command {kind}; use Open, Deposit, Withdraw or Close")
