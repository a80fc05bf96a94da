import { test } from "node:test";
import { AggregateTest } from "cairn-plugin/testing";

import { aggregate } from "./ticket.js";

const CREATED = ["TicketCreated", { title: "Login fails", description: "", project_id: 7, priority: "high" }];

test("a new ticket is created with a default priority", () => {
  new AggregateTest(aggregate, "t-1")
    .when("CreateTicket", { title: "Login fails", project_id: 7 })
    .thenEvents([["TicketCreated", { title: "Login fails", description: "", project_id: 7, priority: "medium" }]]);
});

test("work cannot start on an unassigned ticket", () => {
  new AggregateTest(aggregate, "t-1").given([CREATED]).when("ChangeTicketStatus", { new_status: "in_progress" }).thenRejected("assign the ticket before starting work on it");
});

test("assigning the current assignee records nothing", () => {
  new AggregateTest(aggregate, "t-1")
    .given([CREATED, ["TicketAssigned", { assigned_to: 3, assigned_by: 1 }]])
    .when("AssignTicket", { assigned_to: 3, assigned_by: 1 })
    .thenEvents([]);
});

test("an unknown priority and an unknown command are invalid", () => {
  new AggregateTest(aggregate, "t-1").when("CreateTicket", { title: "x", project_id: 1, priority: "urgent" }).thenInvalid("priority urgent is not one of");
  new AggregateTest(aggregate, "t-1").given([CREATED]).when("Escalate", {}).thenInvalid("unknown command Escalate");
});
