/// Input limits the store enforces on every append.
#[derive(Debug, Clone)]
pub struct StoreLimits {
    /// Largest payload accepted, in bytes of JSON text.
    pub max_payload_bytes: usize,
    /// Largest metadata object accepted, in bytes of JSON text.
    pub max_metadata_bytes: usize,
    /// Longest aggregate type, aggregate id, event type, schema version or
    /// optional id (correlation, causation, user, source), in bytes.
    pub max_name_bytes: usize,
    /// Most events one append may carry.
    pub max_events_per_append: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            max_payload_bytes: 1024 * 1024,
            max_metadata_bytes: 64 * 1024,
            max_name_bytes: 256,
            max_events_per_append: 100_000,
        }
    }
}
