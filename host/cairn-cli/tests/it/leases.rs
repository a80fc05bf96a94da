//! Leases and fencing on both backends: a lease is exclusive until it
//! expires, a take-over raises its token, and a commit under a token that
//! is no longer current is refused whole, through the store and through
//! the replay engine.

use std::sync::Arc;
use std::time::Duration;

use cairn::replay::{replay, CheckpointChoice, ReplayError, ReplayOptions};
use cairn::store::{CheckpointAdvance, Fence, HandlerCommit, ReadModelWrite};
use cairn::{AppendRequest, EventStore, JsonText, NewEvent, StoreError};

use crate::support::{add_plugin, plugin_host};

crate::conformance_tests!(
    a_lease_is_exclusive_until_it_expires_and_a_take_over_raises_its_token,
    a_commit_under_a_token_that_is_no_longer_current_is_refused_whole,
    a_replay_fenced_off_by_a_take_over_commits_nothing,
);

const LONG: Duration = Duration::from_secs(600);
/// A lease that has expired as soon as it is taken: expiry without waiting.
const EXPIRED: Duration = Duration::ZERO;

async fn a_lease_is_exclusive_until_it_expires_and_a_take_over_raises_its_token(store: Arc<dyn EventStore>) {
    let first = store.acquire_lease("work", "a", LONG).await.unwrap().expect("a free lease is taken");
    assert_eq!((first.holder.as_str(), first.token, first.expired), ("a", 1, false));
    assert_eq!(store.acquire_lease("work", "b", LONG).await.unwrap(), None, "another holder's lease is not taken before it expires");
    let again = store.acquire_lease("work", "a", LONG).await.unwrap().expect("the holder takes its own lease again");
    assert_eq!((again.token, again.acquired_at), (1, first.acquired_at), "taking one's own lease again renews it");
    assert!(store.renew_lease("work", "a", 1, LONG).await.unwrap());
    assert!(!store.renew_lease("work", "b", 1, LONG).await.unwrap(), "only the holder renews");

    // Expired: anyone may take it, and the token grows.
    assert!(store.renew_lease("work", "a", 1, EXPIRED).await.unwrap());
    let taken = store.acquire_lease("work", "b", LONG).await.unwrap().expect("an expired lease is taken over");
    assert_eq!((taken.holder.as_str(), taken.token), ("b", 2));
    assert!(!store.renew_lease("work", "a", 1, LONG).await.unwrap(), "the old holder's renewal finds it lost");
    store.release_lease("work", "a", 1).await.unwrap();
    assert_eq!(store.acquire_lease("work", "c", LONG).await.unwrap(), None, "a stale release lets nothing go");

    // Released: it expires at once, and the next holder's token is larger still.
    store.release_lease("work", "b", 2).await.unwrap();
    let after_release = store.acquire_lease("work", "c", LONG).await.unwrap().expect("a released lease is free");
    assert_eq!(after_release.token, 3);
    store.acquire_lease("host:c", "c", EXPIRED).await.unwrap();
    let listed: Vec<(String, String, u64, bool)> = store.leases().await.unwrap().into_iter().map(|lease| (lease.name, lease.holder, lease.token, lease.expired)).collect();
    assert_eq!(listed, [("host:c".to_owned(), "c".to_owned(), 1, true), ("work".to_owned(), "c".to_owned(), 3, false)]);
}

fn commit(fence: Fence) -> HandlerCommit {
    HandlerCommit {
        handler: "fenced".to_owned(),
        writes: vec![ReadModelWrite { collection: "c".to_owned(), key: "k".to_owned(), value: Some("1".to_owned()) }],
        checkpoint: Some(CheckpointAdvance { name: "handler:fenced".to_owned(), expected_position: 0, position: 5, events: 5 }),
        fence: Some(fence),
        ..HandlerCommit::default()
    }
}

async fn a_commit_under_a_token_that_is_no_longer_current_is_refused_whole(store: Arc<dyn EventStore>) {
    store.acquire_lease("projection:fenced", "stalled", EXPIRED).await.unwrap();
    store.acquire_lease("projection:fenced", "successor", LONG).await.unwrap();
    let refused = store.commit_handler_batch(&commit(Fence { lease: "projection:fenced".to_owned(), token: 1 })).await.unwrap_err();
    assert!(matches!(refused, StoreError::LeaseLost { token: 1, current: Some(2), .. }), "{refused}");
    assert!(refused.to_string().contains("another host took over"), "{refused}");
    let missing = store.commit_handler_batch(&commit(Fence { lease: "projection:nothing".to_owned(), token: 1 })).await.unwrap_err();
    assert!(matches!(missing, StoreError::LeaseLost { current: None, .. }), "{missing}");
    assert_eq!(store.read_model_get("fenced", None, "c", "k").await.unwrap(), None, "no write of a refused commit");
    assert_eq!(store.checkpoint("handler:fenced").await.unwrap(), None, "nor its checkpoint");
    store.commit_handler_batch(&commit(Fence { lease: "projection:fenced".to_owned(), token: 2 })).await.unwrap();
    assert_eq!(store.read_model_get("fenced", None, "c", "k").await.unwrap().as_deref(), Some("1"));
}

async fn a_replay_fenced_off_by_a_take_over_commits_nothing(store: Arc<dyn EventStore>) {
    let opened = NewEvent::new("bank-account", "a", "AccountOpened", JsonText::parse(r#"{"owner":"Ann"}"#).unwrap());
    store.append(AppendRequest { events: vec![opened], expectations: vec![] }).await.unwrap();
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "account-summary").await;
    let stalled = store.acquire_lease("projection:account-summary", "stalled", EXPIRED).await.unwrap().unwrap();
    store.acquire_lease("projection:account-summary", "successor", LONG).await.unwrap().unwrap();
    let options = ReplayOptions {
        checkpoint: CheckpointChoice::Named("handler:account-summary".to_owned()),
        fence: Some(Fence { lease: stalled.name.clone(), token: stalled.token }),
        ..ReplayOptions::default()
    };
    let error = replay(&host, "account-summary", &options, |_| {}).await.unwrap_err();
    assert!(matches!(error, ReplayError::Store(StoreError::LeaseLost { .. })), "{error}");
    assert_eq!(store.read_model_get("account-summary", None, "accounts", "a").await.unwrap(), None);
    assert_eq!(store.checkpoint("handler:account-summary").await.unwrap(), None);
}
