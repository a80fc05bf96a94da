//! PostgreSQL's commit and registry notifications between two store
//! handles, as two hosts have: a commit on one wakes a waiter on the other,
//! a registry change is announced to it, and a listening connection that
//! drops is re-established by itself.
#![cfg(cairn_postgres)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn::event::{AppendRequest, NewEvent};
use cairn::store::{self, NewPluginVersion, RegistryNotices, StoreLimits, StoreUrl};
use cairn::{EventStore, JsonText};
use sqlx::Connection;

/// Far longer than a notification takes, so a waiter that returns before
/// it was woken, not timed out.
const LONG_WAIT: Duration = Duration::from_secs(60);

async fn append_one(store: &dyn EventStore) -> u64 {
    let event = NewEvent::new("account", "a", "Opened", JsonText::empty_object());
    store.append(AppendRequest { events: vec![event], expectations: vec![] }).await.unwrap().events[0].global_position
}

/// Returns once `other` has heard of a commit past `after`, and how long that took.
async fn woken_after(other: &Arc<dyn EventStore>, writer: &dyn EventStore, after: u64) -> Duration {
    let waiter = {
        let other = other.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            other.wait_for_new_events(after, LONG_WAIT).await;
            started.elapsed()
        })
    };
    append_one(writer).await;
    waiter.await.unwrap()
}

async fn until_listening(notices: &mut RegistryNotices, listening: bool) {
    tokio::time::timeout(LONG_WAIT, notices.listening.wait_for(|now| *now == listening)).await.expect("the listening state changes").unwrap();
}

fn plugin(name: &str) -> NewPluginVersion {
    NewPluginVersion { name: name.to_owned(), kind: "handler".to_owned(), content_hash: format!("hash-{name}"), description: "{}".to_owned(), component: vec![0] }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_and_registry_changes_reach_another_handle_even_after_its_listener_dropped() {
    let first = crate::support::postgres_store().await;
    let StoreUrl::Postgres { url, schema } = &first.url else { unreachable!() };
    let name = format!("cairn-listener-{}", uuid::Uuid::now_v7().simple());
    let separator = if url.contains('?') { '&' } else { '?' };
    let other_url = StoreUrl::Postgres { url: format!("{url}{separator}application_name={name}"), schema: schema.clone() };
    let other: Arc<dyn EventStore> = store::open(&other_url, StoreLimits::default()).await.unwrap();
    let writer = first.store.as_ref();
    let mut notices = other.registry_notices().expect("PostgreSQL announces registry changes");
    until_listening(&mut notices, true).await;

    let head = other.head_position().await.unwrap();
    assert!(woken_after(&other, writer, head).await < LONG_WAIT / 2, "a commit on one handle wakes a waiter on the other");
    notices.changes.borrow_and_update();
    writer.register_plugin(plugin("announced")).await.unwrap();
    tokio::time::timeout(LONG_WAIT, notices.changes.changed()).await.expect("a registry change is announced").unwrap();

    // Drop every connection of the other handle, its listener's included.
    let mut admin = sqlx::PgConnection::connect(url).await.unwrap();
    let dropped: i64 = sqlx::query_scalar("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1").bind(&name).fetch_one(&mut admin).await.unwrap();
    assert!(dropped > 0);
    until_listening(&mut notices, false).await;
    until_listening(&mut notices, true).await;
    // (The other handle's pooled connections were dropped too; each fails
    // the one statement that meets it, so the head is read on the writer.)
    let head = writer.head_position().await.unwrap();
    assert!(woken_after(&other, writer, head).await < LONG_WAIT / 2, "the re-established listener hears commits again");
    notices.changes.borrow_and_update();
    writer.register_plugin(plugin("after-the-drop")).await.unwrap();
    tokio::time::timeout(LONG_WAIT, notices.changes.changed()).await.expect("registry changes are announced again").unwrap();
    first.remove().await;
}


