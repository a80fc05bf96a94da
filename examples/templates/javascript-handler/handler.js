// A Cairn handler in JavaScript: counts events per type into a read model.
// Replace the name, the event types and handle with your projection's.

import { defineHandler } from "cairn-plugin";

export const handler = defineHandler({
  name: "event-type-counts",
  // Empty means every event type.
  eventTypes: [],
  handle(event, readModels) {
    readModels.put("counts", event.event_type, readModels.get("counts", event.event_type, 0) + 1);
  },
});
