"""Test plugins in plain CPython (pytest or anything else), with no
WebAssembly, through the same glue the component runs: events and commands
cross as JSON text, and failures come back as the contract's errors.

    from cairn_plugin.testing import AggregateTest

    def test_withdrawing_too_much_is_rejected():
        (AggregateTest(BankAccount, "acc-1")
            .given([("AccountOpened", {"owner": "Ann"})])
            .when("Withdraw", {"amount": 5})
            .then_rejected("insufficient funds"))
"""

from types import SimpleNamespace

from . import _core

TEST_TIMESTAMP = "2000-01-01T00:00:00.000000Z"


class PluginFailed(AssertionError):
    """What a plugin answered when a test expected something else."""


def _definition(target, kind):
    definition = getattr(target, "__cairn_plugin__", None)
    if not isinstance(definition, kind):
        raise TypeError(f"{target!r} is not decorated with @{kind.__name__.replace('Definition', '').lower()}")
    return definition


def _events_text(events, envelope):
    """The contract's `events` JSON array for test events: dicts with
    event_type, payload, stream_version, global_position, and stream
    (aggregate type, id) and schema_version."""
    batch = []
    for event in events:
        item = {
            "event_type": event["event_type"],
            "schema_version": event.get("schema_version", "1.0"),
            "stream_version": event["stream_version"],
            "global_position": event["global_position"],
            "timestamp": TEST_TIMESTAMP,
            "payload": event["payload"],
        }
        if envelope:
            aggregate_type, aggregate_id = event.get("stream") or ("test", "test-1")
            item.update(
                id=f"00000000-0000-7000-8000-{event['global_position']:012d}",
                aggregate_type=aggregate_type,
                aggregate_id=aggregate_id,
                metadata={},
                correlation_id=None,
                causation_id=None,
                user_id=None,
                source=None,
            )
        batch.append(item)
    return _core.dumps(batch, "the test events")


def _split(event):
    """(event_type, payload) from a pair or a dict with event_type and payload."""
    if isinstance(event, dict):
        return event["event_type"], event.get("payload", {})
    event_type, payload = event
    return event_type, payload


def _expect_error(outcome, kind, text):
    if not isinstance(outcome, Exception):
        raise PluginFailed(f"expected {kind} containing {text!r}, but the plugin answered {outcome!r}")
    got_kind, message = _core.classify(outcome)
    if got_kind != kind or text not in message:
        raise PluginFailed(f"expected {kind} containing {text!r}, got {got_kind}: {message}")


class AggregateTest:
    """Given events, when a command, then events, a rejection or an invalid-input error."""

    def __init__(self, aggregate_class, aggregate_id="test-1"):
        self.definition = _definition(aggregate_class, _core.AggregateDefinition)
        self.aggregate_id = aggregate_id
        self.events = []

    def given(self, events):
        """Events already in the stream: (event_type, payload) pairs or dicts."""
        self.events.extend(_split(event) for event in events)
        return self

    def state(self):
        """The state the given events fold into, through the real `apply` glue."""
        definition = self.definition
        stream = (definition.aggregate_type, self.aggregate_id)
        events = [
            {"event_type": event_type, "payload": payload, "stream_version": index + 1, "global_position": index + 1, "stream": stream}
            for index, (event_type, payload) in enumerate(self.events)
        ]
        text = definition.apply_json(definition.initial_state_json(self.aggregate_id), self.aggregate_id, _events_text(events, definition.wants_envelope))
        return _core.loads(text, "the state")

    def when(self, command_type, payload=None, metadata=None):
        """Decides the command on the state of the given events."""
        definition = self.definition
        state_text = _core.dumps(self.state(), "the state")
        command = SimpleNamespace(
            command_type=command_type,
            command_id="00000000-0000-7000-8000-00000000c0de",
            aggregate_id=self.aggregate_id,
            payload=payload if isinstance(payload, str) else _core.dumps({} if payload is None else payload, "the command payload"),
            metadata=_core.dumps(metadata or {}, "the command metadata"),
        )
        try:
            outcome = [(event_type, _core.loads(text, "an event payload")) for event_type, _version, text in definition.decide_json(state_text, command)]
        except Exception as error:  # the harness reports what the host would see
            outcome = error
        return _Then(outcome)


class _Then:
    def __init__(self, outcome):
        self.outcome = outcome

    def then_events(self, expected):
        """The command decided exactly these (event_type, payload) events."""
        expected = [_split(event) for event in expected]
        if isinstance(self.outcome, Exception):
            kind, message = _core.classify(self.outcome)
            raise PluginFailed(f"expected events {expected!r}, but the command failed ({kind}): {message}")
        if self.outcome != expected:
            raise PluginFailed(f"expected events {expected!r}, got {self.outcome!r}")

    def then_rejected(self, text=""):
        _expect_error(self.outcome, "rejected", text)

    def then_invalid(self, text=""):
        _expect_error(self.outcome, "invalid", text)


class MigratorTest:
    """This payload in, that one out, through the migrator's real glue."""

    def __init__(self, migrator_function, event_type, schema_version):
        self.definition = _definition(migrator_function, _core.MigratorDefinition)
        self.event_type = event_type
        self.schema_version = schema_version
        self.payload = {}

    def given(self, payload):
        """The stored payload."""
        self.payload = payload
        return self

    def outcome(self):
        event = {"event_type": self.event_type, "schema_version": self.schema_version, "payload": self.payload, "stream_version": 1, "global_position": 1}
        (answer,) = self.definition.migrate_batch(_events_text([event], self.definition.wants_envelope))
        return answer if isinstance(answer, Exception) else _core.loads(answer, "the migrated payload")

    def then_payload(self, expected):
        outcome = self.outcome()
        if isinstance(outcome, Exception):
            kind, message = _core.classify(outcome)
            raise PluginFailed(f"expected a payload, but the migrator failed ({kind}): {message}")
        if outcome != expected:
            raise PluginFailed(f"expected {expected!r}, got {outcome!r}")

    def then_invalid(self, text=""):
        _expect_error(self.outcome(), "invalid", text)


class _MemoryStore:
    def __init__(self, documents):
        self.documents = documents

    def get(self, collection, key):
        return self.documents.get((collection, key))

    def put(self, collection, key, value):
        self.documents[(collection, key)] = value

    def delete(self, collection, key):
        self.documents.pop((collection, key), None)


class HandlerTest:
    """Given events, then read-model documents, kept in memory. Events are
    filtered by the handler's declared types, as the host does; each `given`
    is one batch, and a failing batch keeps the writes of the events before
    the failure, as the host commits them."""

    def __init__(self, handler_target):
        self.definition = _definition(handler_target, _core.HandlerDefinition)
        self.documents = {}
        self.global_position = 0
        self.versions = {}
        self.failure = None

    def given(self, aggregate_type, aggregate_id, events):
        definition = self.definition
        batch, indices = [], []
        for index, event in enumerate(events):
            event_type, payload = _split(event)
            self.global_position += 1
            stream = (aggregate_type, aggregate_id)
            self.versions[stream] = self.versions.get(stream, 0) + 1
            if definition.event_types and event_type not in definition.event_types:
                continue
            if definition.aggregate_types and aggregate_type not in definition.aggregate_types:
                continue
            indices.append(index)
            batch.append({"event_type": event_type, "payload": payload, "stream_version": self.versions[stream], "global_position": self.global_position, "stream": stream})
        attempt = dict(self.documents)
        try:
            definition.handle_batch(_events_text(batch, definition.wants_envelope), _MemoryStore(attempt))
        except _core.BatchFailure as failure:
            kept = dict(self.documents)
            if failure.index > 0:
                definition.handle_batch(_events_text(batch[: failure.index], definition.wants_envelope), _MemoryStore(kept))
            self.documents = kept
            self.failure = (indices[failure.index] if failure.index < len(indices) else failure.index, failure.error)
            return self
        self.documents = attempt
        self.failure = None
        return self

    def document(self, collection, key):
        text = self.documents.get((collection, key))
        return None if text is None else _core.loads(text, f"document {collection}/{key}")

    def then_document(self, collection, key, expected):
        document = self.document(collection, key)
        if document is None:
            raise PluginFailed(f"there is no document {collection}/{key}; there are {sorted(self.documents)}")
        if document != expected:
            raise PluginFailed(f"document {collection}/{key} is {document!r}, expected {expected!r}")
        return self

    def then_no_document(self, collection, key):
        if self.document(collection, key) is not None:
            raise PluginFailed(f"document {collection}/{key} exists: {self.document(collection, key)!r}")
        return self

    def then_failed(self, index, kind, text=""):
        """The last batch failed at event `index` (of the list given) with `kind`."""
        if self.failure is None:
            raise PluginFailed(f"expected the batch to fail at event {index}, but it succeeded")
        got_index, error = self.failure
        got_kind, message = _core.classify(error)
        if got_index != index or got_kind != kind or text not in message:
            raise PluginFailed(f"expected {kind} at event {index} containing {text!r}, got {got_kind} at {got_index}: {message}")
        return self
