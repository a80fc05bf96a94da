//! What both backends' writers share: an append waiting for its group, and
//! the caller's side of handing one over and waiting for its answer.

use std::future::Future;

use tokio::sync::oneshot;

use crate::{validate_append, CommandAppend, CommandMark, StoreError, StoreLimits};
use cairn_event::AppendRequest;

/// An append waiting for the writer, with the command that decided it.
pub(crate) struct PendingAppend {
    pub request: AppendRequest,
    pub command: Option<CommandMark>,
    pub reply: oneshot::Sender<Result<CommandAppend, StoreError>>,
}

/// Validates `request`, hands it to a writer with `send`, and waits for the
/// writer's answer; `location` names the store in errors.
pub(crate) async fn submit<Sent>(
    limits: &StoreLimits,
    location: &str,
    request: AppendRequest,
    command: Option<CommandMark>,
    send: impl FnOnce(PendingAppend) -> Sent,
) -> Result<CommandAppend, StoreError>
where
    Sent: Future<Output = bool>,
{
    let started = std::time::Instant::now();
    validate_append(&request, limits)?;
    let (reply, answer) = oneshot::channel();
    if !send(PendingAppend { request, command, reply }).await {
        return Err(StoreError::Unreachable { url: location.to_owned(), reason: "the store's writer has stopped; restart cairn".to_owned() });
    }
    let appended = answer.await.map_err(|_| StoreError::Unreachable {
        url: location.to_owned(),
        reason: "the writer failed while writing this append (the log says why), so it may or may not be stored; read the stream, or re-send it with the same event ids, which is safe".to_owned(),
    })??;
    if let CommandAppend::Appended(outcome) = &appended {
        crate::telemetry::appended(outcome, started);
    }
    Ok(appended)
}
