// A Cairn aggregate in JavaScript: a counter. Replace the state, events and
// commands with your domain's. Throw Rejected when a business rule refuses a
// command, Invalid when the input cannot be understood.

import { defineAggregate, Invalid, Rejected } from "cairn-plugin";

export const aggregate = defineAggregate({
  type: "counter",
  initialState: () => ({ value: 0 }),
  apply(state, event) {
    if (event.event_type !== "Added") throw new Invalid(`unknown event type ${event.event_type}`);
    state.value += event.payload.amount;
  },
  decide(state, command) {
    if (command.command_type !== "Add") throw new Invalid(`unknown command ${command.command_type}; use Add`);
    const { amount } = command.payload;
    if (!Number.isInteger(amount) || amount <= 0) throw new Rejected("the amount must be a positive whole number");
    return [["Added", { amount }]];
  },
});
