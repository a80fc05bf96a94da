"""A read-model projection in Python: one document per user, and users per
expertise domain.

It reads user events as the active migrators upcast them (1.1, with
`expertise_domains` as a list) and still accepts a 1.0 comma-separated
string, so it gives the same documents with or without the user migrator.
"""

from cairn_plugin import Invalid, handler


def domains_of(payload):
    domains = payload.get("expertise_domains", [])
    if isinstance(domains, str):
        domains = [name.strip() for name in domains.split(",")]
    return sorted({name for name in domains if isinstance(name, str) and name})


@handler(name="user-directory", event_types=["UserRegistered", "UserProfileUpdated"])
def user_directory(event, read_models):
    payload = event["payload"]
    if not isinstance(payload, dict):
        raise Invalid(f"{event['event_type']} {event['id']}: the payload is not a JSON object")
    user_id = event["aggregate_id"]
    user = read_models.get("users", user_id, {"user_id": user_id, "expertise_domains": [], "changes": 0})
    before = set(user["expertise_domains"])
    for field in ("email", "user_preferences"):
        if field in payload:
            user[field] = payload[field]
    if "expertise_domains" in payload:
        user["expertise_domains"] = domains_of(payload)
    user["changes"] += 1
    user["updated_at"] = event["timestamp"]
    read_models.put("users", user_id, user)
    after = set(user["expertise_domains"])
    for domain in before - after:
        read_models.put("domains", domain, [member for member in read_models.get("domains", domain, []) if member != user_id])
    for domain in after - before:
        read_models.put("domains", domain, sorted(set(read_models.get("domains", domain, [])) | {user_id}))
