"""User events, 1.0 -> 1.1 (seed 000, "Migration Examples"), in Python.

The same migration as plugins/user-migrator (Rust): `expertise_domains`
goes from a comma-separated string to a list of trimmed names, and
`user_preferences` and `notification_settings` are added with their
defaults. Values an event already carries are kept. The host's tests feed
both migrators the same events and expect the same payloads.
"""

import copy

from cairn_plugin import Invalid, migrator, step

DEFAULT_PREFERENCES = {"email_notifications": True, "push_notifications": True, "weekly_digest": True}
DEFAULT_NOTIFICATIONS = {"frequency": "immediate", "channels": ["email"], "quiet_hours": {"enabled": False}}


@migrator(steps=[step("UserRegistered", "1.0", "1.1"), step("UserProfileUpdated", "1.0", "1.1")])
def upgrade_user(payload):
    if not isinstance(payload, dict):
        raise Invalid("a user payload must be a JSON object")
    domains = payload.get("expertise_domains")
    if isinstance(domains, str):
        payload["expertise_domains"] = [name.strip() for name in domains.split(",") if name.strip()]
    payload.setdefault("user_preferences", dict(DEFAULT_PREFERENCES))
    payload.setdefault("notification_settings", copy.deepcopy(DEFAULT_NOTIFICATIONS))
    return payload
