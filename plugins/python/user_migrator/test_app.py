from cairn_plugin.testing import MigratorTest

from app import upgrade_user


def test_the_seed_example_upgrades_exactly():
    MigratorTest(upgrade_user, "UserRegistered", "1.0").given(
        {"user_id": "456", "email": "user@example.com", "expertise_domains": "ai,machine learning,nlp"}
    ).then_payload(
        {
            "user_id": "456",
            "email": "user@example.com",
            "expertise_domains": ["ai", "machine learning", "nlp"],
            "user_preferences": {"email_notifications": True, "push_notifications": True, "weekly_digest": True},
            "notification_settings": {"frequency": "immediate", "channels": ["email"], "quiet_hours": {"enabled": False}},
        }
    )


def test_values_an_event_carries_are_kept():
    MigratorTest(upgrade_user, "UserProfileUpdated", "1.0").given({"user_preferences": {"weekly_digest": False}}).then_payload(
        {
            "user_preferences": {"weekly_digest": False},
            "notification_settings": {"frequency": "immediate", "channels": ["email"], "quiet_hours": {"enabled": False}},
        }
    )


def test_a_payload_that_is_not_an_object_is_invalid():
    MigratorTest(upgrade_user, "UserRegistered", "1.0").given([1, 2]).then_invalid("must be a JSON object")


def test_an_event_without_a_step_is_invalid():
    MigratorTest(upgrade_user, "UserRegistered", "0.9").given({}).then_invalid("no step of this migrator reads UserRegistered at version 0.9")
