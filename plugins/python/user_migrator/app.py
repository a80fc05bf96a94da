"""User events, 1.0 -> 1.1 (seed 000, "Migration Examples"), in Python.

The same migration as plugins/user-migrator (Rust): `expertise_domains`
goes from a comma-separated string to a list of trimmed names, and
`user_preferences` and `notification_settings` are added with their
defaults. Values an event already carries are kept. The host's tests feed
both migrators the same events and expect the same payloads.
"""

import json
from dataclasses import replace

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.migrator import Migration
from wit_world.imports.types import Error_Invalid, Event

STEPS = [
    Migration(event_type="UserRegistered", from_version="1.0", to_version="1.1"),
    Migration(event_type="UserProfileUpdated", from_version="1.0", to_version="1.1"),
]

DEFAULT_PREFERENCES = {"email_notifications": True, "push_notifications": True, "weekly_digest": True}
DEFAULT_NOTIFICATIONS = {"frequency": "immediate", "channels": ["email"], "quiet_hours": {"enabled": False}}


def upgrade_payload(payload):
    """The 1.0 -> 1.1 change to one payload; raises ValueError on bad input."""
    if not isinstance(payload, dict):
        raise ValueError("a user payload must be a JSON object")
    domains = payload.get("expertise_domains")
    if isinstance(domains, str):
        payload["expertise_domains"] = [name.strip() for name in domains.split(",") if name.strip()]
    payload.setdefault("user_preferences", dict(DEFAULT_PREFERENCES))
    payload.setdefault("notification_settings", json.loads(json.dumps(DEFAULT_NOTIFICATIONS)))
    return payload


class Migrator(exports.Migrator):
    def describe(self):
        return STEPS

    def migrate(self, event: Event) -> Event:
        step = next((step for step in STEPS if step.event_type == event.event_type and step.from_version == event.schema_version), None)
        if step is None:
            raise Err(Error_Invalid(f"no step for {event.event_type} {event.schema_version}"))
        try:
            payload = upgrade_payload(json.loads(event.payload))
        except ValueError as error:
            raise Err(Error_Invalid(f"cannot upgrade {event.event_type} {event.id}: {error}"))
        return replace(event, schema_version=step.to_version, payload=json.dumps(payload, separators=(",", ":")))
