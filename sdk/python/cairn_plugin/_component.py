"""The export classes componentize-py calls, over the bindings it generates
(`wit_world`) for `cairn:plugin@0.2.0`. Importing this module outside a
component build fails, which is how the SDK knows it runs in plain CPython."""

from componentize_py_types import Err, Ok
from wit_world.imports import types

from . import _core

_ERRORS = {"rejected": types.Error_Rejected, "invalid": types.Error_Invalid, "internal": types.Error_Internal}


def _wire_error(error):
    kind, message = _core.classify(error)
    return _ERRORS[kind](message)


def export_class(definition):
    if isinstance(definition, _core.AggregateDefinition):
        return _aggregate(definition)
    if isinstance(definition, _core.MigratorDefinition):
        return _migrator(definition)
    return _handler(definition)


def _aggregate(definition):
    from wit_world import exports
    from wit_world.exports.aggregate import Info

    class Aggregate(exports.Aggregate):
        def describe(self):
            return Info(
                aggregate_type=definition.aggregate_type,
                state_version=definition.state_version,
                snapshot_every=definition.snapshot_every,
                wants_envelope=definition.wants_envelope,
            )

        def initial_state(self, aggregate_id):
            return definition.initial_state_json(aggregate_id)

        def apply(self, state, aggregate_id, events):
            try:
                return definition.apply_json(state, aggregate_id, events)
            except Exception as error:
                raise Err(_wire_error(error))

        def decide(self, state, command):
            try:
                decided = definition.decide_json(state, command)
            except Exception as error:
                raise Err(_wire_error(error))
            return [types.NewEvent(event_type=event_type, schema_version=version, payload=payload) for event_type, version, payload in decided]

    return Aggregate


def _migrator(definition):
    from wit_world import exports
    from wit_world.exports.migrator import Info, Migrated, Migration

    class Migrator(exports.Migrator):
        def describe(self):
            steps = [Migration(event_type=step.event_type, from_version=step.from_version, to_version=step.to_version) for step in definition.steps]
            return Info(steps=steps, wants_envelope=definition.wants_envelope)

        def migrate(self, events):
            answers = []
            for event in events:
                try:
                    answers.append(Ok(Migrated(payload=definition.migrate_one(event), metadata=None)))
                except Exception as error:
                    answers.append(Err(_wire_error(error)))
            return answers

    return Migrator


class _HostReadModels:
    """The handler's read models in the host, as JSON text."""

    def __init__(self):
        from wit_world.imports import read_model

        self.get = read_model.get
        self.put = read_model.put
        self.delete = read_model.delete


def _handler(definition):
    from wit_world import exports
    from wit_world.exports.handler import Failure, Info

    class Handler(exports.Handler):
        def describe(self):
            return Info(
                name=definition.name,
                event_types=definition.event_types,
                aggregate_types=definition.aggregate_types,
                wants_envelope=definition.wants_envelope,
            )

        def handle(self, events):
            try:
                definition.handle_batch(events, _HostReadModels())
            except _core.BatchFailure as failure:
                raise Err(Failure(index=failure.index, error=_wire_error(failure.error)))

    return Handler
