"""A bank account in Python, with the rules of plugins/bank-account (Rust).

Amounts are whole cents. An account is opened once; deposits and
withdrawals need an open account and a positive amount; a withdrawal may
not overdraw; a closed account accepts nothing more. Its aggregate type is
`bank-account-py`, so that it can live in one store beside the Rust one;
`cairn bench plugins` runs `cairn exec` through both as whole processes.
"""

from cairn_plugin import Invalid, Rejected, aggregate


def amount_of(payload):
    amount = payload.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise Invalid("the payload needs amount, a whole number of cents")
    if amount <= 0:
        raise Rejected(f"the amount must be positive, got {amount}")
    return amount


def require_open(state):
    if state["status"] == "unopened":
        raise Rejected("the account is not open")
    if state["status"] == "closed":
        raise Rejected("the account is closed")


@aggregate(type="bank-account-py", snapshot_every=100)
class BankAccount:
    def initial_state(self, aggregate_id):
        return {"status": "unopened", "owner": None, "balance": 0, "transactions": 0}

    def apply(self, state, event):
        kind, payload = event["event_type"], event["payload"]
        if kind == "AccountOpened":
            state["status"], state["owner"] = "open", payload["owner"]
        elif kind == "MoneyDeposited":
            state["balance"] += payload["amount"]
            state["transactions"] += 1
        elif kind == "MoneyWithdrawn":
            state["balance"] -= payload["amount"]
            state["transactions"] += 1
        elif kind == "AccountClosed":
            state["status"] = "closed"
        else:
            raise Invalid(f"the bank account does not know event type {kind}")
        return state

    def decide(self, state, command):
        kind, payload = command["command_type"], command["payload"]
        if not isinstance(payload, dict):
            raise Invalid("the command payload must be a JSON object")
        if kind == "Open":
            if state["status"] != "unopened":
                raise Rejected("the account is already open" if state["status"] == "open" else "the account is closed")
            owner = payload.get("owner")
            if not isinstance(owner, str):
                raise Invalid("the payload needs owner, a string")
            if not owner.strip():
                raise Rejected("an account needs an owner")
            return [("AccountOpened", {"owner": owner})]
        if kind == "Deposit":
            require_open(state)
            return [("MoneyDeposited", {"amount": amount_of(payload)})]
        if kind == "Withdraw":
            require_open(state)
            amount = amount_of(payload)
            if amount > state["balance"]:
                raise Rejected(f"insufficient funds: the balance is {state['balance']}, the withdrawal {amount}")
            return [("MoneyWithdrawn", {"amount": amount})]
        if kind == "Close":
            require_open(state)
            return [("AccountClosed", {})]
        raise Invalid(f"unknown command {kind}; use Open, Deposit, Withdraw or Close")
