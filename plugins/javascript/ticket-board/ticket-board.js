// A read-model projection in JavaScript: each ticket's current card, and
// per project how many tickets are in each status. Written on the Cairn SDK
// (sdk/javascript): documents are plain values, and a thrown error fails the
// batch at its event, which the host retries or dead-letters.

import { defineHandler, Invalid } from "cairn-plugin";

const STATUSES = ["open", "in_progress", "resolved", "closed"];

function emptyBoard(projectId) {
  const counts = Object.fromEntries(STATUSES.map((status) => [status, 0]));
  return { project_id: projectId, counts, tickets: 0 };
}

function moveOnBoard(readModels, projectId, from, to) {
  const key = String(projectId);
  const board = readModels.get("projects", key, emptyBoard(projectId));
  if (from === null) board.tickets += 1;
  else board.counts[from] -= 1;
  board.counts[to] += 1;
  readModels.put("projects", key, board);
}

function existingCard(readModels, event) {
  const card = readModels.get("tickets", event.aggregate_id, null);
  if (card === null) throw new Invalid(`${event.event_type} ${event.id}: ticket ${event.aggregate_id} changed before it was created`);
  return card;
}

export const handler = defineHandler({
  name: "ticket-board",
  eventTypes: ["TicketCreated", "TicketAssigned", "TicketStatusChanged"],
  aggregateTypes: ["ticket"],
  handle(event, readModels) {
    const { payload, aggregate_id: id, timestamp } = event;
    switch (event.event_type) {
      case "TicketCreated":
        readModels.put("tickets", id, { id, title: payload.title, priority: payload.priority, project_id: payload.project_id, status: "open", assigned_to: null, updated_at: timestamp });
        moveOnBoard(readModels, payload.project_id, null, "open");
        return;
      case "TicketAssigned":
        readModels.put("tickets", id, { ...existingCard(readModels, event), assigned_to: payload.assigned_to, updated_at: timestamp });
        return;
      case "TicketStatusChanged": {
        const card = existingCard(readModels, event);
        readModels.put("tickets", id, { ...card, status: payload.new_status, updated_at: timestamp });
        moveOnBoard(readModels, card.project_id, card.status, payload.new_status);
        return;
      }
    }
  },
});
