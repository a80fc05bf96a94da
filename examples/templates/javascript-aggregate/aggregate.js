// A Cairn aggregate in JavaScript: a counter. Replace the state, events and
// commands with your domain's.
//
// Payloads and state are JSON text. Throw { tag: "rejected", val: message }
// when a business rule refuses a command, { tag: "invalid", val } when the
// input cannot be understood.

function parse(text) {
  return JSON.parse(text);
}

export const aggregate = {
  describe() {
    return { aggregateType: "counter", stateVersion: "1", snapshotEvery: undefined };
  },

  initialState(_aggregateId) {
    return JSON.stringify({ value: 0 });
  },

  apply(stateText, events) {
    const state = parse(stateText);
    for (const event of events) {
      if (event.eventType !== "Added") throw { tag: "invalid", val: `unknown event type ${event.eventType}` };
      state.value += parse(event.payload).amount;
    }
    return JSON.stringify(state);
  },

  decide(_stateText, command) {
    if (command.commandType !== "Add") throw { tag: "invalid", val: `unknown command ${command.commandType}; use Add` };
    const { amount } = parse(command.payload);
    if (!Number.isInteger(amount) || amount <= 0) throw { tag: "rejected", val: "the amount must be a positive whole number" };
    return [{ eventType: "Added", schemaVersion: "1.0", payload: JSON.stringify({ amount }) }];
  },
};
