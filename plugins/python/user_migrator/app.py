"""User events, 1.0 -> 1.1 (seed 000, "Migration Examples"), in Python.

The same migration as plugins/user-migrator (Rust): `expertise_domains`
goes from a comma-separated string to a list of trimmed names, and
`user_preferences` and `notification_settings` are added with their
defaults. Values an event already carries are kept. The host's tests feed
both migrators the same events and expect the same payloads.
"""

from cairn_plugin import Invalid, migrator, step


def default_preferences():
    return {"email_notifications": True, "push_notifications": True, "weekly_digest": True}


def default_notifications():
    return {"frequency": "immediate", "channels": ["email"], "quiet_hours": {"enabled": False}}


@migrator(steps=[step("UserRegistered", "1.0", "1.1"), step("UserProfileUpdated", "1.0", "1.1")])
def upgrade_user(payload):
    if not isinstance(payload, dict):
        raise Invalid("a user payload must be a JSON object")
    domains = payload.get("expertise_domains")
    if isinstance(domains, str):
        payload["expertise_domains"] = [name.strip() for name in domains.split(",") if name.strip()]
    if "user_preferences" not in payload:
        payload["user_preferences"] = default_preferences()
    if "notification_settings" not in payload:
        payload["notification_settings"] = default_notifications()
    return payload
