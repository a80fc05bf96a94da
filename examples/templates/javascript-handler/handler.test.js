import { test } from "node:test";
import { HandlerTest } from "cairn-plugin/testing";

import { handler } from "./handler.js";

test("events are counted per type", () => {
  new HandlerTest(handler)
    .given("counter", "c-1", [["Added", { amount: 1 }], ["Added", { amount: 2 }], ["Reset", {}]])
    .thenDocument("counts", "Added", 2)
    .thenDocument("counts", "Reset", 1);
});
