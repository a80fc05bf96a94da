use std::time::Duration;

use tokio::sync::watch;

/// The highest committed position this process knows of, and a way to wait
/// for it to move. Fed by this process's own appends and, on PostgreSQL, by
/// other processes' commit notifications.
#[derive(Debug, Clone)]
pub(crate) struct HeadWatch {
    sender: watch::Sender<u64>,
}

impl HeadWatch {
    pub fn new(head: u64) -> Self {
        Self { sender: watch::Sender::new(head) }
    }

    /// Records a committed head; waiters wake only when it moved forward.
    pub fn publish(&self, head: u64) {
        self.sender.send_if_modified(|current| {
            let moved = head > *current;
            *current = (*current).max(head);
            moved
        });
    }

    /// Returns once the head is past `after_position`, or after `max_wait`.
    pub async fn wait_beyond(&self, after_position: u64, max_wait: Duration) {
        let mut receiver = self.sender.subscribe();
        let _ = tokio::time::timeout(max_wait, receiver.wait_for(|head| *head > after_position)).await;
    }
}
