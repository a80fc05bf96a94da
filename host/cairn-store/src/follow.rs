use std::sync::Arc;
use std::time::Duration;

use futures::Stream;

use super::{EventStore, LogFilter, StoreError};
use cairn_event::RecordedEvent;

/// How long a follower waits for a wake-up before it looks again on its own.
/// Other processes' appends reach a SQLite follower only by looking.
const FOLLOW_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Every matching event after `after_position`, then every new one as it is
/// committed, forever. Memory stays bounded by one page.
pub fn follow_log(
    store: Arc<dyn EventStore>,
    filter: LogFilter,
    after_position: u64,
    page_size: usize,
) -> impl Stream<Item = Result<RecordedEvent, StoreError>> + Send + 'static {
    futures::stream::unfold(
        (after_position, Vec::<RecordedEvent>::new().into_iter()),
        move |(mut position, mut buffered)| {
            let (store, filter) = (store.clone(), filter.clone());
            async move {
                loop {
                    if let Some(event) = buffered.next() {
                        position = event.global_position;
                        return Some((Ok(event), (position, buffered)));
                    }
                    let head = match store.head_position().await {
                        Ok(head) => head,
                        Err(error) => return Some((Err(error), (position, buffered))),
                    };
                    if head <= position {
                        store.wait_for_new_events(position, FOLLOW_POLL_INTERVAL).await;
                        continue;
                    }
                    match store.read_log(&filter, position, page_size).await {
                        Ok(page) if page.is_empty() => {
                            // Nothing matched below the head: skip ahead so the
                            // next read starts there instead of rescanning.
                            position = head;
                        }
                        Ok(page) => buffered = page.into_iter(),
                        Err(error) => return Some((Err(error), (position, buffered))),
                    }
                }
            }
        },
    )
}
