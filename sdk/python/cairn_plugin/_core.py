"""The SDK's glue in plain Python: JSON text in and out, events and
commands as dicts, exceptions as the contract's errors. Events arrive as
the contract's `events` text (a JSON array, parsed in one call); commands
are read by attribute only. The component (`_component`) and the test
harness (`testing`) both run exactly this code."""

import inspect
import json
from collections import namedtuple

from ._errors import Invalid, Rejected

Step = namedtuple("Step", ["event_type", "from_version", "to_version"])

# One encoder for every answer: json.dumps with non-default options builds a
# new encoder on each call, which costs more than encoding a small payload.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(value, what):
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what} cannot be written as JSON: {error}") from error


def loads(text, what):
    try:
        return json.loads(text)
    except ValueError as error:
        raise Invalid(f"{what} is not JSON: {error}") from error


def classify(error):
    """("rejected" | "invalid" | "internal", message) for any exception."""
    if isinstance(error, Rejected):
        return "rejected", error.message
    if isinstance(error, Invalid):
        return "invalid", error.message
    return "internal", f"{type(error).__name__}: {error}"


def parse_events(text):
    """The events of a batch: the host's JSON array, each event a dict with
    its payload parsed; the envelope's keys only when the plugin asked."""
    events = loads(text, "the events")
    if not isinstance(events, list):
        raise Invalid("the events are not a JSON array")
    return events


def new_events(decided):
    """(event_type, schema_version, payload text) for each event `decide` returned."""
    if decided is None:
        return []
    answer = []
    for index, event in enumerate(decided):
        if isinstance(event, dict):
            event_type, payload, schema_version = event.get("event_type"), event.get("payload"), event.get("schema_version", "1.0")
        elif isinstance(event, (tuple, list)) and len(event) in (2, 3):
            event_type, payload = event[0], event[1]
            schema_version = event[2] if len(event) == 3 else "1.0"
        else:
            raise TypeError(f"decided event {index + 1} is {event!r}; return (event_type, payload) pairs or dicts with event_type and payload")
        if not isinstance(event_type, str) or not event_type:
            raise TypeError(f"decided event {index + 1} has no event_type string")
        answer.append((event_type, str(schema_version), dumps(payload, f"the payload of {event_type}")))
    return answer


class AggregateDefinition:
    def __init__(self, instance, aggregate_type, state_version, snapshot_every, wants_envelope):
        self.instance = instance
        self.aggregate_type = aggregate_type
        self.state_version = str(state_version)
        self.snapshot_every = snapshot_every
        self.wants_envelope = bool(wants_envelope)

    def initial_state_json(self, aggregate_id):
        return dumps(self.instance.initial_state(aggregate_id), "the initial state")

    def apply_json(self, state_text, aggregate_id, events_text):
        events = parse_events(events_text)
        if not events:
            # Folding nothing changes nothing: the state goes back as it came.
            return state_text
        state = loads(state_text, "the state")
        apply = self.instance.apply
        for event in events:
            if "aggregate_id" not in event:
                event["aggregate_type"] = self.aggregate_type
                event["aggregate_id"] = aggregate_id
            folded = apply(state, event)
            if folded is not None:
                state = folded
        return dumps(state, "the state")

    def decide_json(self, state_text, wire_command):
        command = {
            "command_type": wire_command.command_type,
            "command_id": wire_command.command_id,
            "aggregate_id": wire_command.aggregate_id,
            "payload": loads(wire_command.payload, "the command payload"),
            "metadata": loads(wire_command.metadata, "the command metadata"),
        }
        return new_events(self.instance.decide(loads(state_text, "the state"), command))


class MigratorDefinition:
    def __init__(self, function, steps, wants_envelope):
        self.function = function
        self.steps = steps
        self.wants_envelope = bool(wants_envelope)
        self._steps = {(step.event_type, step.from_version) for step in steps}
        try:
            parameters = len(inspect.signature(function).parameters)
        except (TypeError, ValueError):
            parameters = 1
        self._with_event = parameters >= 2

    def migrate_one(self, event):
        """The payload text at the step's to-version, for one event dict."""
        event_type, version = event.get("event_type"), event.get("schema_version")
        if (event_type, version) not in self._steps:
            raise Invalid(f"no step of this migrator reads {event_type} at version {version}")
        payload = event.get("payload")
        migrated = self.function(payload, event) if self._with_event else self.function(payload)
        return dumps(migrated, f"the migrated payload of {event_type}")

    def migrate_batch(self, events_text):
        """One answer per event, in order: payload text, or the exception."""
        answers = []
        for event in parse_events(events_text):
            try:
                answers.append(self.migrate_one(event))
            except Exception as error:  # each event's failure is its own answer
                answers.append(error)
        return answers


class ReadModels:
    """Documents by collection and key, as plain values; `store` does the I/O
    on JSON text (the host's read models, or a dict in tests)."""

    def __init__(self, store):
        self._store = store

    def get(self, collection, key, default=None):
        text = self._store.get(collection, key)
        return default if text is None else json.loads(text)

    def put(self, collection, key, value):
        self._store.put(collection, key, dumps(value, f"document {collection}/{key}"))

    def delete(self, collection, key):
        self._store.delete(collection, key)


class BatchFailure(Exception):
    def __init__(self, index, error):
        super().__init__(index, error)
        self.index = index
        self.error = error


class HandlerDefinition:
    def __init__(self, handle, end_batch, name, event_types, aggregate_types, wants_envelope):
        self.handle = handle
        self.end_batch = end_batch
        self.name = name
        self.event_types = event_types
        self.aggregate_types = aggregate_types
        self.wants_envelope = bool(wants_envelope)

    def handle_batch(self, events_text, store):
        """Handles the batch; a failure raises `BatchFailure` naming its event."""
        read_models = ReadModels(store)
        index = 0
        try:
            events = parse_events(events_text)
            for index, event in enumerate(events):
                self.handle(event, read_models)
            if self.end_batch is not None:
                index = max(len(events) - 1, 0)
                self.end_batch(read_models)
        except Exception as error:  # every failure is reported, named by its event
            raise BatchFailure(index, error) from error
