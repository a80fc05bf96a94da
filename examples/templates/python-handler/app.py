"""A Cairn handler in Python: counts events per type into a read model.
Replace NAME, EVENT_TYPES and handle_one with your projection's."""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.handler import Failure, Info
from wit_world.imports import read_model
from wit_world.imports.types import Error_Invalid

NAME = "event-type-counts"
# Empty means every event type.
EVENT_TYPES = []


def handle_one(event):
    text = read_model.get("counts", event.event_type)
    count = json.loads(text) if text is not None else 0
    read_model.put("counts", event.event_type, json.dumps(count + 1))


class Handler(exports.Handler):
    def describe(self):
        return Info(name=NAME, event_types=EVENT_TYPES, aggregate_types=[])

    def handle(self, events):
        for index, event in enumerate(events):
            try:
                handle_one(event)
            except (ValueError, KeyError, TypeError) as error:
                # Events before `index` count as handled; the host retries
                # from this one, then dead-letters it.
                raise Err(Failure(index=index, error=Error_Invalid(f"{event.id}: {error}")))
