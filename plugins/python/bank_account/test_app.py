from cairn_plugin.testing import AggregateTest

from app import BankAccount

OPENED = ("AccountOpened", {"owner": "Ann"})


def test_a_deposit_into_an_open_account_is_recorded():
    AggregateTest(BankAccount, "acc-1").given([OPENED]).when("Deposit", {"amount": 250}).then_events([("MoneyDeposited", {"amount": 250})])


def test_a_withdrawal_beyond_the_balance_is_rejected():
    (
        AggregateTest(BankAccount, "acc-1")
        .given([OPENED, ("MoneyDeposited", {"amount": 100}), ("MoneyWithdrawn", {"amount": 40})])
        .when("Withdraw", {"amount": 61})
        .then_rejected("insufficient funds: the balance is 60")
    )


def test_an_amount_that_is_not_a_whole_number_is_invalid():
    AggregateTest(BankAccount).given([OPENED]).when("Deposit", {"amount": "ten"}).then_invalid("a whole number of cents")


def test_a_closed_account_accepts_nothing_and_unknown_commands_are_invalid():
    closed = AggregateTest(BankAccount).given([OPENED, ("AccountClosed", {})])
    closed.when("Deposit", {"amount": 1}).then_rejected("the account is closed")
    closed.when("Freeze", {}).then_invalid("unknown command Freeze")


def test_the_state_folds_through_the_same_glue_as_the_component():
    state = AggregateTest(BankAccount, "acc-1").given([OPENED, ("MoneyDeposited", {"amount": 7})]).state()
    assert state == {"status": "open", "owner": "Ann", "balance": 7, "transactions": 1}
