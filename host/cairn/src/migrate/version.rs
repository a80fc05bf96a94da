//! Schema versions compare as semantic versions: "1.0" < "1.1" < "2.0" <
//! "10.0". Missing components count as zero, so "2" equals "2.0.0".

use std::cmp::Ordering;

/// A parsed schema version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaVersion(semver::Version);

impl SchemaVersion {
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split('.').collect();
        let padded = match parts.len() {
            1 => format!("{text}.0.0"),
            2 => format!("{text}.0"),
            _ => text.to_owned(),
        };
        semver::Version::parse(&padded)
            .map(SchemaVersion)
            .map_err(|error| format!("`{text}` is not a schema version ({error}); write it like 1.0, 1.1 or 2.0.1"))
    }
}

impl PartialOrd for SchemaVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SchemaVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}
