import { test } from "node:test";
import { MigratorTest } from "cairn-plugin/testing";

import { migrator } from "./migrator.js";

test("an added event gets a unit", () => {
  new MigratorTest(migrator, "Added", "1.0").given({ amount: 2 }).thenPayload({ amount: 2, unit: "each" });
});

test("a payload without amount is invalid", () => {
  new MigratorTest(migrator, "Added", "1.0").given({}).thenInvalid("needs amount");
});
