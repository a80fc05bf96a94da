//! What the field encryption promises, from the outside.

use proptest::prelude::*;
use serde_json::{json, Value};
use uuid::Uuid;

use super::*;

fn master() -> MasterKey {
    MasterKey::from_bytes(&[9; KEY_BYTES])
}

fn child_policy() -> FieldPolicy {
    FieldPolicy::new(&["/name".to_owned(), "/age".to_owned()], "/child_id").unwrap()
}

fn key_for(subject: &str) -> DataKey {
    DataKey::generate(&master(), subject).0
}

#[test]
fn personal_fields_are_sealed_and_the_rest_stays_readable() {
    let key = key_for("child-1");
    let event = Uuid::new_v4();
    let mut payload = json!({"child_id": "child-1", "name": "Mia Jones", "age": 7, "school": "Hill"});
    assert_eq!(child_policy().protect(&mut payload, &key, event).unwrap(), 2);
    let stored = payload.to_string();
    assert!(!stored.contains("Mia") && !stored.contains(":7"), "{stored}");
    assert_eq!((payload["child_id"].as_str(), payload["school"].as_str()), (Some("child-1"), Some("Hill")));
    assert!(payload["name"]["$enc"].as_str().unwrap().starts_with("v1:"), "{payload}");
    assert!(has_envelopes(&payload));

    assert_eq!(reveal(&mut payload, Some(&key), event).unwrap(), Vec::<String>::new());
    assert_eq!(payload, json!({"child_id": "child-1", "name": "Mia Jones", "age": 7, "school": "Hill"}));
}

#[test]
fn two_sealings_of_the_same_value_differ() {
    let key = key_for("child-1");
    let event = Uuid::new_v4();
    let mut first = json!({"child_id": "child-1", "name": "Mia"});
    let mut second = first.clone();
    child_policy().protect(&mut first, &key, event).unwrap();
    child_policy().protect(&mut second, &key, event).unwrap();
    assert_ne!(first["name"], second["name"], "a fresh nonce per field");
}

#[test]
fn without_the_key_the_fields_read_as_null_and_are_named() {
    let event = Uuid::new_v4();
    let mut payload = json!({"child_id": "child-1", "name": "Mia", "age": 7});
    child_policy().protect(&mut payload, &key_for("child-1"), event).unwrap();
    let redacted = reveal(&mut payload, None, event).unwrap();
    assert_eq!(redacted, ["/age", "/name"]);
    assert_eq!(payload, json!({"child_id": "child-1", "name": null, "age": null}));
}

#[test]
fn an_envelope_opens_only_in_its_own_event_and_field_with_its_own_key() {
    let key = key_for("child-1");
    let event = Uuid::new_v4();
    let mut payload = json!({"child_id": "child-1", "name": "Mia", "age": 7});
    child_policy().protect(&mut payload, &key, event).unwrap();

    let mut other_event = payload.clone();
    assert_eq!(reveal(&mut other_event, Some(&key), Uuid::new_v4()), Err(FieldError::Damaged { pointer: "/age".to_owned() }));
    let mut swapped = payload.clone();
    swapped["name"] = payload["age"].clone();
    assert!(matches!(reveal(&mut swapped, Some(&key), event), Err(FieldError::Damaged { .. })), "moved to another field");
    let mut other_key = payload.clone();
    assert!(reveal(&mut other_key, Some(&key_for("child-2")), event).is_err());
    let mut damaged = payload.clone();
    damaged["name"]["$enc"] = json!("v1:AAAA");
    assert_eq!(reveal(&mut damaged, Some(&key), event), Err(FieldError::Damaged { pointer: "/name".to_owned() }));
}

#[test]
fn bad_policies_and_payloads_are_refused_with_the_fix() {
    assert_eq!(FieldPolicy::new(&["name".to_owned()], "/id"), Err(FieldError::NotAPointer { pointer: "name".to_owned() }));
    assert!(matches!(FieldPolicy::new(&["/id".to_owned()], "/id"), Err(FieldError::SubjectEncrypted { .. })));
    let policy = child_policy();
    let no_subject = policy.subject_of(&json!({"name": "Mia"})).unwrap_err();
    assert!(no_subject.to_string().contains("no subject at /child_id"), "{no_subject}");
    assert!(matches!(policy.subject_of(&json!({"child_id": [1], "name": "Mia"})), Err(FieldError::SubjectNotAnId { .. })));
    assert_eq!(policy.subject_of(&json!({"child_id": 42, "name": "Mia"})), Ok(Some("42".to_owned())));
    assert_eq!(policy.subject_of(&json!({"child_id": "c", "school": "Hill"})), Ok(None), "nothing personal, nothing to seal");
    let mut planted = json!({"child_id": "c", "name": "Mia", "note": {"$enc": "v1:forged"}});
    assert_eq!(policy.protect(&mut planted, &key_for("c"), Uuid::new_v4()), Err(FieldError::AlreadyEncrypted { pointer: "/note".to_owned() }));
}

#[test]
fn nested_fields_and_awkward_names_round_trip() {
    let policy = FieldPolicy::new(&["/child/name".to_owned(), "/tags/0".to_owned(), "/a~1b".to_owned()], "/child/id").unwrap();
    let key = key_for("c-9");
    let event = Uuid::new_v4();
    let original = json!({"child": {"id": "c-9", "name": "Noa"}, "tags": ["private", "public"], "a/b": {"deep": [1, 2]}});
    let mut payload = original.clone();
    assert_eq!(policy.protect(&mut payload, &key, event).unwrap(), 3);
    assert!(payload["a/b"]["$enc"].is_string(), "{payload}");
    let mut forgotten = payload.clone();
    assert_eq!(reveal(&mut forgotten, None, event).unwrap(), ["/a~1b", "/child/name", "/tags/0"]);
    reveal(&mut payload, Some(&key), event).unwrap();
    assert_eq!(payload, original);
}

proptest! {
    #[test]
    fn any_json_value_round_trips(value in any_json(), subject in "[a-z0-9-]{1,20}") {
        let key = key_for(&subject);
        let event = Uuid::new_v4();
        let mut payload = json!({"id": subject, "secret": value.clone()});
        FieldPolicy::new(&["/secret".to_owned()], "/id").unwrap().protect(&mut payload, &key, event).unwrap();
        reveal(&mut payload, Some(&key), event).unwrap();
        prop_assert_eq!(&payload["secret"], &value);
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Bool(true)),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |number| number.is_finite()).prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z$~/]{1,6}", inner, 0..4).prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}
