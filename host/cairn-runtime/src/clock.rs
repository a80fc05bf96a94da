//! The monotonic clock a plugin sees, and what waiting on it does: nothing.
//! wasmtime-wasi's own clock sleeps on the host's timer when a plugin asks
//! to wait (`std::thread::sleep`, `setTimeout`, `time.sleep`), and time
//! spent inside a host call escapes the CPU-time limit, so one sleeping
//! call held a host thread for as long as it liked. Here every wait is over
//! at once: a plugin's time never passes, as its fixed wall clock already
//! says, and a plugin that waits for time to pass loops until its CPU-time
//! limit stops it.

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;
use wasmtime_wasi::p2::{subscribe, DynPollable, Pollable};

use crate::sandbox::PluginState;

/// Every instant a plugin reads from its monotonic clock.
const FIXED_INSTANT: u64 = 0;

/// A subscription that is ready as soon as it is polled.
struct Elapsed;

#[async_trait::async_trait]
impl Pollable for Elapsed {
    async fn ready(&mut self) {}
}

pub(crate) struct VirtualClock<'a> {
    table: &'a mut ResourceTable,
}

impl VirtualClock<'_> {
    fn elapsed(&mut self) -> wasmtime::Result<Resource<DynPollable>> {
        let waiting = self.table.push(Elapsed)?;
        subscribe(self.table, waiting)
    }
}

impl monotonic_clock::Host for VirtualClock<'_> {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        Ok(FIXED_INSTANT)
    }

    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        Ok(1_000_000_000)
    }

    fn subscribe_instant(&mut self, _when: monotonic_clock::Instant) -> wasmtime::Result<Resource<DynPollable>> {
        self.elapsed()
    }

    fn subscribe_duration(&mut self, _duration: monotonic_clock::Duration) -> wasmtime::Result<Resource<DynPollable>> {
        self.elapsed()
    }
}

struct VirtualClockData;

impl HasData for VirtualClockData {
    type Data<'a> = VirtualClock<'a>;
}

/// Replaces the monotonic clock wasmtime-wasi linked with the virtual one.
pub(crate) fn shadow_monotonic_clock(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let linked = monotonic_clock::add_to_linker::<PluginState, VirtualClockData>(linker, |state| VirtualClock { table: state.table() });
    linker.allow_shadowing(false);
    linked
}
