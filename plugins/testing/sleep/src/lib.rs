const AGGREGATE_TYPE: &str = "test-sleep";

/// Sleeps for ten minutes, then waits until ten minutes have passed on its
/// clock. A host that sleeps for real holds a thread for ten minutes; with
/// the sandbox's clock, where time never passes, the sleep returns at once
/// and the wait spins until the CPU-time limit ends the call.
fn misbehave() {
    let started = std::time::Instant::now();
    std::thread::sleep(std::time::Duration::from_secs(600));
    while started.elapsed() < std::time::Duration::from_secs(600) {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

include!("../../misbehaving-common.rs");
