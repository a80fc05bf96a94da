"""A read-model projection in Python: one document per user, and users per
expertise domain.

It reads user events as the active migrators upcast them (1.1, with
`expertise_domains` as a list) and still accepts a 1.0 comma-separated
string, so it gives the same documents with or without the user migrator.
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.handler import Failure, Info
from wit_world.imports import read_model
from wit_world.imports.types import Error_Invalid

EVENT_TYPES = ["UserRegistered", "UserProfileUpdated"]


def domains_of(payload):
    domains = payload.get("expertise_domains", [])
    if isinstance(domains, str):
        domains = [name.strip() for name in domains.split(",")]
    return sorted({name for name in domains if isinstance(name, str) and name})


def load(collection, key, default):
    text = read_model.get(collection, key)
    return json.loads(text) if text is not None else default


def store(collection, key, value):
    read_model.put(collection, key, json.dumps(value, separators=(",", ":"), sort_keys=True))


def handle_one(event):
    payload = json.loads(event.payload)
    if not isinstance(payload, dict):
        raise ValueError("the payload is not a JSON object")
    user_id = event.aggregate_id
    user = load("users", user_id, {"user_id": user_id, "expertise_domains": [], "changes": 0})
    before = set(user["expertise_domains"])
    if "email" in payload:
        user["email"] = payload["email"]
    if "expertise_domains" in payload:
        user["expertise_domains"] = domains_of(payload)
    if "user_preferences" in payload:
        user["user_preferences"] = payload["user_preferences"]
    user["changes"] += 1
    user["updated_at"] = event.timestamp
    store("users", user_id, user)
    after = set(user["expertise_domains"])
    for domain in before - after:
        members = load("domains", domain, [])
        store("domains", domain, [member for member in members if member != user_id])
    for domain in after - before:
        members = load("domains", domain, [])
        store("domains", domain, sorted(set(members) | {user_id}))


class Handler(exports.Handler):
    def describe(self):
        return Info(name="user-directory", event_types=EVENT_TYPES, aggregate_types=[])

    def handle(self, events):
        for index, event in enumerate(events):
            try:
                handle_one(event)
            except (ValueError, KeyError, TypeError) as error:
                raise Err(Failure(index=index, error=Error_Invalid(f"{event.event_type} {event.id}: {error}")))
