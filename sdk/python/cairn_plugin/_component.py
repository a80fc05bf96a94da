"""The export classes componentize-py calls, over the bindings it generates
(`wit_world`) for `cairn:plugin@0.2.0`. Importing this module outside a
component build fails, which is how the SDK knows it runs in plain CPython.

Everything is imported when the decorators run, during the build's
snapshot of the app: at run time the sandbox has no files to import from."""

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
            try:
                answers = definition.migrate_batch(events)
            except Exception as error:  # not the contract's batch: one answer names it
                return [Err(_wire_error(error))]
            return [Err(_wire_error(answer)) if isinstance(answer, Exception) else Ok(Migrated(payload=answer, metadata=None)) for answer in answers]

    return Migrator


def _handler(definition):
    # Every module is imported here, while the build snapshots the app: at
    # run time the sandbox has no files to import from (a stubbed WASI call
    # traps), so nothing may be imported lazily.
    from wit_world import exports
    from wit_world.exports.handler import Failure, Info
    from wit_world.imports import read_model

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
                definition.handle_batch(events, read_model)
            except _core.BatchFailure as failure:
                raise Err(Failure(index=failure.index, error=_wire_error(failure.error)))
            except Exception as error:  # before any event: the batch's first
                raise Err(Failure(index=0, error=_wire_error(error)))

    return Handler
