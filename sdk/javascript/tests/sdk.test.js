// The SDK's own behaviour, under node --test.
import { test } from "node:test";
import assert from "node:assert/strict";

import { defineAggregate, defineHandler, defineMigrator, Invalid, Rejected } from "../index.js";
import { AggregateTest, HandlerTest, MigratorTest } from "../testing.js";

const counter = defineAggregate({
  type: "counter",
  initialState: (id) => ({ id, value: 0 }),
  apply(state, event) {
    state.value += event.payload.amount;
    state.last = [event.aggregate_type, event.aggregate_id, event.stream_version];
  },
  decide(state, command) {
    if (command.command_type === "Crash") throw new TypeError("a bug");
    if (!(command.payload.amount > 0)) throw new Rejected("the amount must be positive");
    return [{ event_type: "Added", payload: { amount: command.payload.amount }, schema_version: "2.0" }];
  },
});

test("apply sees its stream, and a state left undefined is kept", () => {
  assert.deepEqual(new AggregateTest(counter, "c-9").given([["Added", { amount: 2 }], ["Added", { amount: 3 }]]).state(), { id: "c-9", value: 5, last: ["counter", "c-9", 2] });
});

test("decide answers events, rejections, invalid input and internal errors", () => {
  new AggregateTest(counter).when("Add", { amount: 4 }).thenEvents([["Added", { amount: 4 }]]);
  new AggregateTest(counter).when("Add", { amount: 0 }).thenRejected("must be positive");
  new AggregateTest(counter).when("Add", "{not json").thenInvalid("the command payload is not JSON");
  assert.throws(() => new AggregateTest(counter).when("Crash").thenRejected(), /internal/);
  assert.throws(() => new AggregateTest(counter).when("Add", { amount: 4 }).thenEvents([["Added", { amount: 5 }]]));
});

test("a definition without decide is refused", () => {
  assert.throws(() => defineAggregate({ type: "x", initialState: () => ({}), apply: () => {} }), /lacks decide/);
});

const rename = defineMigrator({
  steps: [["Renamed", "1.0", "2.0"]],
  migrate(payload, event) {
    if (!("old" in payload)) throw new Invalid(`${event.event_type} has no old field`);
    return { new: payload.old };
  },
});

test("a migrator answers per event and names each failure", () => {
  new MigratorTest(rename, "Renamed", "1.0").given({ old: 1 }).thenPayload({ new: 1 });
  new MigratorTest(rename, "Renamed", "1.0").given({}).thenInvalid("Renamed has no old field");
  const answers = rename.migrate('[{"event_type":"Renamed","schema_version":"1.0","payload":{"old":2}},{"event_type":"Renamed","schema_version":"3.0","payload":{}}]');
  assert.deepEqual(answers[0], { tag: "ok", val: { payload: '{"new":2}', metadata: null } });
  assert.equal(answers[1].tag, "err");
  assert.match(answers[1].val.val, /no step of this migrator reads Renamed at version 3.0/);
});

const totals = defineHandler({
  name: "totals",
  eventTypes: ["Added"],
  handle(event, readModels) {
    if (event.payload.amount < 0) throw new Invalid("negative");
    readModels.put("totals", event.aggregate_id, readModels.get("totals", event.aggregate_id, 0) + event.payload.amount);
  },
});

test("a handler keeps documents, and a failure keeps the events before it", () => {
  const test = new HandlerTest(totals);
  test.given("counter", "c-1", [["Added", { amount: 2 }], ["Ignored", {}], ["Added", { amount: 3 }]]).thenDocument("totals", "c-1", 5);
  test.given("counter", "c-1", [["Added", { amount: 1 }], ["Added", { amount: -1 }]]).thenFailed(1, "invalid", "negative").thenDocument("totals", "c-1", 6);
});
