// The ticket aggregate of seed 003 ("Ticket Events"): a ticket is created,
// assigned and moved through its statuses, under business rules. Written on
// the Cairn SDK (sdk/javascript): plain objects in and out, Rejected for a
// business rule, Invalid for input the aggregate cannot read.

import { defineAggregate, Invalid, Rejected } from "cairn-plugin";

const PRIORITIES = ["low", "medium", "high", "critical"];

// Which status may follow which. "resolved" can be reopened; "closed" is final.
const TRANSITIONS = {
  open: ["in_progress", "resolved", "closed"],
  in_progress: ["open", "resolved", "closed"],
  resolved: ["open", "closed"],
  closed: [],
};

function requireField(payload, name, type) {
  const value = payload[name];
  if (typeof value !== type || (type === "string" && value.trim() === "")) {
    throw new Invalid(`the payload needs ${name}, a non-empty ${type}`);
  }
  return value;
}

function fold(state, event) {
  const payload = event.payload;
  switch (event.event_type) {
    case "TicketCreated":
      return { ...state, status: "open", title: payload.title, description: payload.description, project_id: payload.project_id, priority: payload.priority };
    case "TicketAssigned":
      return { ...state, assigned_to: payload.assigned_to, assignments: state.assignments + 1 };
    case "TicketStatusChanged":
      return { ...state, status: payload.new_status };
    default:
      throw new Invalid(`the ticket aggregate does not know event type ${event.event_type}`);
  }
}

function decide(state, command) {
  const payload = command.payload;
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    throw new Invalid("the command payload must be a JSON object");
  }
  switch (command.command_type) {
    case "CreateTicket": {
      if (state.status !== "new") throw new Rejected(`ticket ${command.aggregate_id} already exists`);
      const title = requireField(payload, "title", "string");
      const projectId = requireField(payload, "project_id", "number");
      const priority = payload.priority ?? "medium";
      if (!PRIORITIES.includes(priority)) {
        throw new Invalid(`priority ${priority} is not one of ${PRIORITIES.join(", ")}`);
      }
      return [["TicketCreated", { title, description: payload.description ?? "", project_id: projectId, priority }]];
    }
    case "AssignTicket": {
      if (state.status === "new") throw new Rejected(`ticket ${command.aggregate_id} does not exist`);
      if (state.status === "closed") throw new Rejected("a closed ticket cannot be assigned");
      const assignedTo = requireField(payload, "assigned_to", "number");
      const assignedBy = requireField(payload, "assigned_by", "number");
      // Assigning to the current assignee changes nothing, so it records nothing.
      if (state.assigned_to === assignedTo) return [];
      return [["TicketAssigned", { assigned_to: assignedTo, assigned_by: assignedBy }]];
    }
    case "ChangeTicketStatus": {
      if (state.status === "new") throw new Rejected(`ticket ${command.aggregate_id} does not exist`);
      const newStatus = requireField(payload, "new_status", "string");
      if (!(newStatus in TRANSITIONS)) {
        throw new Invalid(`status ${newStatus} is not one of ${Object.keys(TRANSITIONS).join(", ")}`);
      }
      if (newStatus === state.status) return [];
      if (!TRANSITIONS[state.status].includes(newStatus)) {
        throw new Rejected(`a ${state.status} ticket cannot become ${newStatus}`);
      }
      if (newStatus === "in_progress" && state.assigned_to === null) {
        throw new Rejected("assign the ticket before starting work on it");
      }
      return [["TicketStatusChanged", { old_status: state.status, new_status: newStatus }]];
    }
    default:
      throw new Invalid(`unknown command ${command.command_type}; use CreateTicket, AssignTicket or ChangeTicketStatus`);
  }
}

export const aggregate = defineAggregate({
  type: "ticket",
  initialState: () => ({ status: "new", title: null, description: null, project_id: null, priority: null, assigned_to: null, assignments: 0 }),
  apply: fold,
  decide,
});
