"""A Cairn handler in Python: counts events per type into a read model.
Replace the name, the event types and the function with your projection's."""

from cairn_plugin import handler


# Empty event_types means every event type.
@handler(name="event-type-counts", event_types=[])
def count_event_types(event, read_models):
    count = read_models.get("counts", event["event_type"], 0)
    read_models.put("counts", event["event_type"], count + 1)
