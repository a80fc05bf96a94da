//! Blocking work (a SQLite read or append, a plugin call) run from async
//! code without a hand-off to another thread where that is safe and cheap.
//!
//! Why: a command is a chain of short blocking steps (read, decide, append,
//! fold), and handing each to the blocking pool and back costs two thread
//! wake-ups per step, which on a small machine is more than the step
//! itself. The future a multi-threaded runtime's `block_on` drives (the
//! whole of `cairn exec`) runs on a thread of its own that is no async
//! worker, so its blocking steps run right there (`block_in_place`, which
//! on that thread just calls the work). Inside a task on a worker, moving
//! the worker away first (what `block_in_place` does there) cost as much
//! as the hand-off and more under many concurrent tasks (`cairn bench
//! http`: 9,634 against 12,395 commands/s), so tasks hand off to the pool,
//! as does every task of a current-thread runtime (most tests), which
//! cannot block in place at all.

use tokio::runtime::{Handle, RuntimeFlavor};

/// Runs `work` where it blocks no other task: in place when called outside
/// any task on a multi-threaded runtime, else on the blocking pool. A panic
/// in `work` is raised again in the caller.
pub async fn run_blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let in_place = tokio::task::try_id().is_none() && Handle::try_current().is_ok_and(|runtime| runtime.runtime_flavor() == RuntimeFlavor::MultiThread);
    if in_place {
        return tokio::task::block_in_place(work);
    }
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

#[cfg(test)]
mod tests {
    use super::run_blocking;

    #[test]
    fn work_runs_in_place_only_outside_tasks_of_a_multi_threaded_runtime() {
        let caller = std::thread::current().id();
        let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
        assert_eq!(multi.block_on(run_blocking(|| std::thread::current().id())), caller);
        let (worker, ran_on) = multi.block_on(multi.spawn(async { (std::thread::current().id(), run_blocking(|| std::thread::current().id()).await) })).unwrap();
        assert_ne!(worker, ran_on, "a task's blocking work leaves its worker");
        let single = tokio::runtime::Builder::new_current_thread().build().unwrap();
        assert_ne!(single.block_on(run_blocking(|| std::thread::current().id())), caller);
    }

    #[test]
    fn a_task_blocked_in_its_work_leaves_the_other_tasks_running() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
        runtime.block_on(async {
            let (release, released) = std::sync::mpsc::channel::<()>();
            // The work blocks until another task has run on the only worker.
            let blocked = tokio::spawn(run_blocking(move || released.recv().unwrap()));
            tokio::spawn(async move { release.send(()).unwrap() }).await.unwrap();
            blocked.await.unwrap();
        });
    }

    #[test]
    fn a_panic_in_the_work_reaches_the_caller() {
        for runtime in [tokio::runtime::Builder::new_multi_thread().build().unwrap(), tokio::runtime::Builder::new_current_thread().build().unwrap()] {
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(run_blocking(|| panic!("boom")))));
            assert!(caught.is_err());
        }
    }
}
