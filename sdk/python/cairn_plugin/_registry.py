"""The decorators. Each records what the author wrote in a definition and,
inside a component build, installs the export class that componentize-py
looks for in the author's module (`Aggregate`, `Migrator` or `Handler`)."""

import inspect
import sys

from . import _core


def step(event_type, from_version, to_version):
    """One upcasting step: events of `event_type` at `from_version` become
    `to_version`. Versions compare as semantic versions ("1.0" < "1.1")."""
    return _core.Step(event_type, from_version, to_version)


def _install(definition, target, export_name):
    """Inside a component build, puts the export class into the author's
    module; in plain CPython (tests) there are no bindings, and nothing to do."""
    target.__cairn_plugin__ = definition
    try:
        from . import _component
    except ImportError:
        return target
    module = sys.modules.get(target.__module__)
    if module is not None:
        setattr(module, export_name, _component.export_class(definition))
    return target


def aggregate(type, state_version="1", snapshot_every=None, wants_envelope=False):
    """Marks a class as the aggregate of `type`. The class has
    `initial_state(aggregate_id) -> dict`, `apply(state, event) -> dict`
    (returning None keeps the mutated `state`) and
    `decide(state, command) -> list` of `(event_type, payload)` pairs or
    dicts with `event_type`, `payload` and optionally `schema_version`."""

    def decorate(cls):
        if not inspect.isclass(cls):
            raise TypeError("@aggregate decorates a class with initial_state, apply and decide")
        missing = [name for name in ("initial_state", "apply", "decide") if not callable(getattr(cls, name, None))]
        if missing:
            raise TypeError(f"the aggregate {cls.__name__} lacks {', '.join(missing)}")
        definition = _core.AggregateDefinition(cls(), type, state_version, snapshot_every, wants_envelope)
        return _install(definition, cls, "Aggregate")

    return decorate


def migrator(steps, wants_envelope=False):
    """Marks a function as a migrator performing `steps` (made with `step`
    or given as `(event_type, from_version, to_version)` triples). It is
    called as `fn(payload)` or `fn(payload, event)` and returns the payload
    at the step's `to_version`."""

    def decorate(function):
        if not callable(function):
            raise TypeError("@migrator decorates a function taking the payload (and optionally the event)")
        definition = _core.MigratorDefinition(function, [_core.Step(*each) for each in steps], wants_envelope)
        return _install(definition, function, "Migrator")

    return decorate


def handler(name, event_types=(), aggregate_types=(), wants_envelope=True):
    """Marks a function `fn(event, read_models)`, or a class with
    `handle(event, read_models)` and optionally `end_batch(read_models)`, as
    the handler `name`. Empty `event_types`/`aggregate_types` mean all."""

    def decorate(target):
        instance = target() if inspect.isclass(target) else None
        handle = instance.handle if instance is not None else target
        end_batch = getattr(instance, "end_batch", None)
        definition = _core.HandlerDefinition(handle, end_batch, name, list(event_types), list(aggregate_types), wants_envelope)
        return _install(definition, target, "Handler")

    return decorate
