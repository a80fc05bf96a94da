from cairn_plugin.testing import TEST_TIMESTAMP, HandlerTest

from app import user_directory


def registered(email, domains):
    return ("UserRegistered", {"email": email, "expertise_domains": domains})


def test_users_and_their_domains_are_kept():
    test = HandlerTest(user_directory)
    test.given("user", "456", [registered("a@example.com", "ai, robotics"), ("UserProfileUpdated", {"expertise_domains": ["ai"]})])
    test.given("user", "457", [registered("b@example.com", ["robotics"]), ("UserDeleted", {})])
    test.then_document("users", "456", {"user_id": "456", "email": "a@example.com", "expertise_domains": ["ai"], "changes": 2, "updated_at": TEST_TIMESTAMP})
    test.then_document("domains", "robotics", ["457"])
    test.then_document("domains", "ai", ["456"])


def test_a_payload_that_is_not_an_object_fails_its_event_and_keeps_the_ones_before():
    test = HandlerTest(user_directory)
    test.given("user", "456", [registered("a@example.com", "ai"), ("UserProfileUpdated", [1])])
    test.then_failed(1, "invalid", "the payload is not a JSON object")
    test.then_document("domains", "ai", ["456"])
