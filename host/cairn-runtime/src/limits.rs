//! What one plugin instance may take of the host: linear memory in total
//! across all of its memories, and how many memories, tables and core
//! instances it may create. A component is several core modules, each with
//! memories and tables of its own, so a cap per memory alone would let a
//! component with many memories take many times the cap.

use wasmtime::ResourceLimiter;

/// Core instances one component instance may create. The Python and
/// JavaScript examples need between 31 and 40 (measured by lowering the
/// limit until their tests failed); Rust plugins need fewer.
pub const MAX_CORE_INSTANCES: usize = 100;
/// Linear memories one component instance may create; the examples need 3
/// at most, measured the same way.
pub const MAX_MEMORIES: usize = 16;
/// Tables one component instance may create; the examples need 3 at most.
pub const MAX_TABLES: usize = 32;
/// Elements one table may grow to.
pub const MAX_TABLE_ELEMENTS: usize = 1_000_000;

/// Caps an instance's resources and remembers which cap it hit, so that the
/// trap that follows can be reported as what it is.
pub(crate) struct InstanceLimits {
    pub memory_limit_bytes: usize,
    /// Bytes of linear memory across every memory of the instance.
    memory_bytes: usize,
    pub exceeded: Option<Exceeded>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exceeded {
    Memory,
    Table,
}

impl InstanceLimits {
    pub fn new(memory_limit_bytes: usize) -> Self {
        Self { memory_limit_bytes, memory_bytes: 0, exceeded: None }
    }
}

impl ResourceLimiter for InstanceLimits {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let total = self.memory_bytes - current.min(self.memory_bytes) + desired;
        if total > self.memory_limit_bytes {
            self.exceeded = Some(Exceeded::Memory);
            return Err(wasmtime::format_err!(
                "memory limit of {} bytes reached across the instance's memories (it asked for {total})",
                self.memory_limit_bytes
            ));
        }
        self.memory_bytes = total;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            self.exceeded = Some(Exceeded::Table);
            return Err(wasmtime::format_err!("a table may hold at most {MAX_TABLE_ELEMENTS} elements (it asked for {desired})"));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        MAX_CORE_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

/// Wasmtime counts memories, tables and core instances itself, before any
/// limiter callback, and says so only in its error's text ("memory count too
/// high at 17"); this names the limit that was hit, for the failure's
/// message. A test through the real binary (test-many-memories) keeps the
/// text in step with wasmtime.
pub(crate) fn count_over_limit(error: &wasmtime::Error) -> Option<String> {
    let text = format!("{error:#}");
    let (what, most) = [("memory count too high", ("memories", MAX_MEMORIES)), ("table count too high", ("tables", MAX_TABLES)), ("instance count too high", ("core instances", MAX_CORE_INSTANCES))]
        .into_iter()
        .find_map(|(needle, limit)| text.contains(needle).then_some(limit))?;
    Some(format!("it creates more {what} than one plugin instance may have ({most}); the limits are {MAX_MEMORIES} memories, {MAX_TABLES} tables and {MAX_CORE_INSTANCES} core instances"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_capped_across_memories_not_per_memory() {
        let mut limits = InstanceLimits::new(100);
        assert!(limits.memory_growing(0, 60, None).unwrap(), "a first memory of 60");
        assert!(limits.memory_growing(0, 40, None).unwrap(), "a second memory of 40: 100 in all");
        assert!(limits.memory_growing(0, 1, None).is_err(), "a third memory would pass the cap");
        assert_eq!(limits.exceeded, Some(Exceeded::Memory));
        let mut limits = InstanceLimits::new(100);
        limits.memory_growing(0, 50, None).unwrap();
        assert!(limits.memory_growing(50, 100, None).is_ok(), "growing one memory counts only the growth");
        assert!(limits.memory_growing(100, 101, None).is_err());
    }
}

/// What one call has handed back so far, against the output limits. A call
/// that goes over is failed once it returns (`over` names the limit), even
/// where the import it went over with cannot fail (`log`).
pub(crate) struct CallBudget {
    pub limits: crate::OutputLimits,
    log_bytes: usize,
    read_model_writes: usize,
    pub over: Option<String>,
}

impl CallBudget {
    pub fn new(limits: crate::OutputLimits) -> Self {
        Self { limits, log_bytes: 0, read_model_writes: 0, over: None }
    }

    /// A new call starts with nothing spent.
    pub fn reset(&mut self) {
        self.log_bytes = 0;
        self.read_model_writes = 0;
        self.over = None;
    }

    /// Whether a log line of `bytes` may go to the host's log.
    pub fn log(&mut self, bytes: usize) -> bool {
        self.log_bytes += bytes;
        if self.log_bytes > self.limits.log_bytes_per_call {
            self.over.get_or_insert_with(|| format!("it logged more than {} bytes in one call, the limit (--plugin-max-log-bytes)", self.limits.log_bytes_per_call));
            return false;
        }
        true
    }

    /// Counts one read-model write, or names the limit it goes over.
    pub fn read_model_write(&mut self) -> Result<(), String> {
        self.read_model_writes += 1;
        if self.read_model_writes > self.limits.read_model_writes_per_call {
            let message = format!("it made more than {} read-model writes in one call, the limit (--plugin-max-read-model-writes)", self.limits.read_model_writes_per_call);
            self.over.get_or_insert_with(|| message.clone());
            return Err(message);
        }
        Ok(())
    }
}
