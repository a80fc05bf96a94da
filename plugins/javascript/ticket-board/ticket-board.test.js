import { test } from "node:test";
import { HandlerTest, TEST_TIMESTAMP } from "cairn-plugin/testing";

import { handler } from "./ticket-board.js";

const created = (projectId) => ["TicketCreated", { title: "Login fails", priority: "high", project_id: projectId }];

test("the board counts tickets per status and keeps each card", () => {
  const board = new HandlerTest(handler);
  board.given("ticket", "t-1", [created(7), ["TicketAssigned", { assigned_to: 3 }], ["TicketStatusChanged", { new_status: "resolved" }]]);
  board.given("ticket", "t-2", [created(7)]);
  board.given("other", "o-1", [created(7)]);
  board.thenDocument("projects", "7", { project_id: 7, tickets: 2, counts: { open: 1, in_progress: 0, resolved: 1, closed: 0 } });
  board.thenDocument("tickets", "t-1", { id: "t-1", title: "Login fails", priority: "high", project_id: 7, status: "resolved", assigned_to: 3, updated_at: TEST_TIMESTAMP });
});

test("a change to a ticket that was never created fails that event and keeps the ones before", () => {
  const board = new HandlerTest(handler);
  board.given("ticket", "t-1", [created(7), ["TicketAssigned", { assigned_to: 3 }]]);
  board.given("ticket", "t-9", [["TicketStatusChanged", { new_status: "closed" }]]);
  board.thenFailed(0, "invalid", "ticket t-9 changed before it was created");
  board.given("ticket", "t-2", [created(8), ["TicketAssigned", { assigned_to: 4 }], ["TicketAssigned", { assigned_to: 5 }]]);
  board.thenDocument("projects", "8", { project_id: 8, tickets: 1, counts: { open: 1, in_progress: 0, resolved: 0, closed: 0 } });
  board.thenNoDocument("tickets", "t-9");
});
