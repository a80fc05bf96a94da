// A read-model projection in JavaScript: each ticket's current card, and
// per project how many tickets are in each status.
//
// Documents are JSON text; a thrown { index, error } fails the batch at
// that event, and the host retries or dead-letters it.

import { get, put } from "cairn:plugin/read-model@0.1.0";

const STATUSES = ["open", "in_progress", "resolved", "closed"];

function load(collection, key, fallback) {
  const text = get(collection, key);
  return text === undefined || text === null ? fallback : JSON.parse(text);
}

function store(collection, key, value) {
  put(collection, key, JSON.stringify(value));
}

function emptyBoard(projectId) {
  const counts = {};
  for (const status of STATUSES) counts[status] = 0;
  return { project_id: projectId, counts, tickets: 0 };
}

function moveOnBoard(projectId, from, to) {
  const key = String(projectId);
  const board = load("projects", key, emptyBoard(projectId));
  if (from === null) board.tickets += 1;
  else board.counts[from] -= 1;
  board.counts[to] += 1;
  store("projects", key, board);
}

function handleOne(event) {
  const payload = JSON.parse(event.payload);
  const id = event.aggregateId;
  switch (event.eventType) {
    case "TicketCreated": {
      store("tickets", id, { id, title: payload.title, priority: payload.priority, project_id: payload.project_id, status: "open", assigned_to: null, updated_at: event.timestamp });
      moveOnBoard(payload.project_id, null, "open");
      return;
    }
    case "TicketAssigned": {
      const card = load("tickets", id, null);
      if (card === null) throw new Error(`ticket ${id} was assigned before it was created`);
      store("tickets", id, { ...card, assigned_to: payload.assigned_to, updated_at: event.timestamp });
      return;
    }
    case "TicketStatusChanged": {
      const card = load("tickets", id, null);
      if (card === null) throw new Error(`ticket ${id} changed status before it was created`);
      store("tickets", id, { ...card, status: payload.new_status, updated_at: event.timestamp });
      moveOnBoard(card.project_id, card.status, payload.new_status);
      return;
    }
  }
}

export const handler = {
  describe() {
    return { name: "ticket-board", eventTypes: ["TicketCreated", "TicketAssigned", "TicketStatusChanged"], aggregateTypes: ["ticket"] };
  },

  handle(events) {
    events.forEach((event, index) => {
      try {
        handleOne(event);
      } catch (error) {
        throw { index, error: { tag: "invalid", val: `${event.eventType} ${event.id}: ${error.message}` } };
      }
    });
  },
};
