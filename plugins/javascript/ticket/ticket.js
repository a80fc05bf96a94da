// The ticket aggregate of seed 003 ("Ticket Events"): a ticket is created,
// assigned and moved through its statuses, under business rules.
//
// State and payloads cross the boundary as JSON text (see wit/README.md);
// u64 fields such as globalPosition arrive as BigInt and are not used here.
// A thrown { tag, val } becomes the WIT error variant: "rejected" for a
// business rule, "invalid" for input the aggregate cannot read.

const PRIORITIES = ["low", "medium", "high", "critical"];

// Which status may follow which. "resolved" can be reopened; "closed" is final.
const TRANSITIONS = {
  open: ["in_progress", "resolved", "closed"],
  in_progress: ["open", "resolved", "closed"],
  resolved: ["open", "closed"],
  closed: [],
};

function rejected(message) {
  return { tag: "rejected", val: message };
}

function invalid(message) {
  return { tag: "invalid", val: message };
}

function parse(text, what) {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid(`${what} is not JSON: ${error.message}`);
  }
}

function requireField(payload, name, type) {
  const value = payload[name];
  if (typeof value !== type || (type === "string" && value.trim() === "")) {
    throw invalid(`the payload needs ${name}, a non-empty ${type}`);
  }
  return value;
}

function event(eventType, payload) {
  return { eventType, schemaVersion: "1.0", payload: JSON.stringify(payload) };
}

function fold(state, stored) {
  const payload = parse(stored.payload, `the payload of ${stored.eventType}`);
  switch (stored.eventType) {
    case "TicketCreated":
      return {
        ...state,
        status: "open",
        title: payload.title,
        description: payload.description,
        project_id: payload.project_id,
        priority: payload.priority,
      };
    case "TicketAssigned":
      return { ...state, assigned_to: payload.assigned_to, assignments: state.assignments + 1 };
    case "TicketStatusChanged":
      return { ...state, status: payload.new_status };
    default:
      throw invalid(`the ticket aggregate does not know event type ${stored.eventType}`);
  }
}

function decide(state, command) {
  const payload = parse(command.payload, "the command payload");
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    throw invalid("the command payload must be a JSON object");
  }
  switch (command.commandType) {
    case "CreateTicket": {
      if (state.status !== "new") throw rejected(`ticket ${command.aggregateId} already exists`);
      const title = requireField(payload, "title", "string");
      const projectId = requireField(payload, "project_id", "number");
      const priority = payload.priority ?? "medium";
      if (!PRIORITIES.includes(priority)) {
        throw invalid(`priority ${priority} is not one of ${PRIORITIES.join(", ")}`);
      }
      return [event("TicketCreated", { title, description: payload.description ?? "", project_id: projectId, priority })];
    }
    case "AssignTicket": {
      if (state.status === "new") throw rejected(`ticket ${command.aggregateId} does not exist`);
      if (state.status === "closed") throw rejected("a closed ticket cannot be assigned");
      const assignedTo = requireField(payload, "assigned_to", "number");
      const assignedBy = requireField(payload, "assigned_by", "number");
      // Assigning to the current assignee changes nothing, so it records nothing.
      if (state.assigned_to === assignedTo) return [];
      return [event("TicketAssigned", { assigned_to: assignedTo, assigned_by: assignedBy })];
    }
    case "ChangeTicketStatus": {
      if (state.status === "new") throw rejected(`ticket ${command.aggregateId} does not exist`);
      const newStatus = requireField(payload, "new_status", "string");
      if (!(newStatus in TRANSITIONS)) {
        throw invalid(`status ${newStatus} is not one of ${Object.keys(TRANSITIONS).join(", ")}`);
      }
      if (newStatus === state.status) return [];
      if (!TRANSITIONS[state.status].includes(newStatus)) {
        throw rejected(`a ${state.status} ticket cannot become ${newStatus}`);
      }
      if (newStatus === "in_progress" && state.assigned_to === null) {
        throw rejected("assign the ticket before starting work on it");
      }
      return [event("TicketStatusChanged", { old_status: state.status, new_status: newStatus })];
    }
    default:
      throw invalid(`unknown command ${command.commandType}; use CreateTicket, AssignTicket or ChangeTicketStatus`);
  }
}

export const aggregate = {
  describe() {
    return { aggregateType: "ticket", stateVersion: "1", snapshotEvery: undefined };
  },

  initialState(_aggregateId) {
    return JSON.stringify({ status: "new", title: null, description: null, project_id: null, priority: null, assigned_to: null, assignments: 0 });
  },

  apply(stateText, events) {
    let state = parse(stateText, "the state");
    for (const stored of events) state = fold(state, stored);
    return JSON.stringify(state);
  },

  decide(stateText, command) {
    return decide(parse(stateText, "the state"), command);
  },
};
