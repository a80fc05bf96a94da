import { test } from "node:test";
import { AggregateTest } from "cairn-plugin/testing";

import { aggregate } from "./aggregate.js";

test("adding records an event", () => {
  new AggregateTest(aggregate).given([["Added", { amount: 1 }]]).when("Add", { amount: 2 }).thenEvents([["Added", { amount: 2 }]]);
});

test("zero is rejected and an unknown command is invalid", () => {
  new AggregateTest(aggregate).when("Add", { amount: 0 }).thenRejected("positive whole number");
  new AggregateTest(aggregate).when("Reset", {}).thenInvalid("unknown command Reset");
});
