// A Cairn migrator in JavaScript: raises Added events from 1.0 to 2.0 by
// adding a unit to their payload. Replace the steps and the function.

import { defineMigrator, Invalid } from "cairn-plugin";

export const migrator = defineMigrator({
  steps: [["Added", "1.0", "2.0"]],
  migrate(payload) {
    if (typeof payload !== "object" || payload === null || !("amount" in payload)) throw new Invalid("an Added payload needs amount");
    return { ...payload, unit: "each" };
  },
});
