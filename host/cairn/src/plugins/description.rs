//! What the registry stores about a plugin besides its bytes: its kind and
//! its `describe` answer, so that listing plugins, choosing the plugin of an
//! aggregate type and checking migration chains never run a plugin.
//!
//! The store keeps both as opaque text; this module is the one place that
//! writes and reads that text. Descriptions are versioned JSON
//! (`"format": 1`); a description stored before formats existed is read by
//! its kind. Decoding refuses a missing field rather than inventing a value.

use serde::{Deserialize, Serialize};

use crate::runtime::types::{AggregateInfo, ContractVersion, HandlerInfo, MigrationStep};
use crate::runtime::{LoadedPlugin, PluginKind};

/// The description format this host writes.
const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// The version of the `cairn:plugin` contract the component exports.
    pub contract: ContractVersion,
    pub info: DescribedInfo,
}

/// A plugin's own `describe` answer, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DescribedInfo {
    Aggregate(AggregateInfo),
    Migrator(Vec<MigrationStep>),
    Handler(HandlerInfo),
}

#[derive(Serialize, Deserialize)]
struct Stored<T> {
    format: u32,
    contract: ContractVersion,
    #[serde(flatten)]
    info: T,
}

#[derive(Serialize, Deserialize)]
struct Steps {
    steps: Vec<MigrationStep>,
}

impl Description {
    /// What `plugin` says about itself.
    pub fn of(plugin: &LoadedPlugin, contract: ContractVersion) -> Self {
        let info = match plugin {
            LoadedPlugin::Aggregate(plugin) => DescribedInfo::Aggregate(plugin.info().clone()),
            LoadedPlugin::Migrator(plugin) => DescribedInfo::Migrator(plugin.steps().to_vec()),
            LoadedPlugin::Handler(plugin) => DescribedInfo::Handler(plugin.info().clone()),
        };
        Self { contract, info }
    }

    pub fn kind(&self) -> PluginKind {
        match self.info {
            DescribedInfo::Aggregate(_) => PluginKind::Aggregate,
            DescribedInfo::Migrator(_) => PluginKind::Migrator,
            DescribedInfo::Handler(_) => PluginKind::Handler,
        }
    }

    pub fn aggregate_type(&self) -> Option<&str> {
        match &self.info {
            DescribedInfo::Aggregate(info) => Some(&info.aggregate_type),
            _ => None,
        }
    }

    pub fn steps(&self) -> &[MigrationStep] {
        match &self.info {
            DescribedInfo::Migrator(steps) => steps,
            _ => &[],
        }
    }

    /// The text the registry stores.
    pub fn encode(&self) -> String {
        let contract = self.contract;
        let encoded = match &self.info {
            DescribedInfo::Aggregate(info) => serde_json::to_string(&Stored { format: FORMAT, contract, info }),
            DescribedInfo::Migrator(steps) => serde_json::to_string(&Stored { format: FORMAT, contract, info: Steps { steps: steps.clone() } }),
            DescribedInfo::Handler(info) => serde_json::to_string(&Stored { format: FORMAT, contract, info }),
        };
        encoded.expect("descriptions serialise")
    }

    /// Reads what `encode` wrote, or a description stored before formats
    /// existed (those are all contract 0.1.0).
    pub fn decode(kind: PluginKind, text: &str) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|error| format!("its stored description is not JSON ({error})"))?;
        let versioned = value.get("format").is_some();
        if let Some(format) = value.get("format").and_then(serde_json::Value::as_u64).filter(|format| *format != u64::from(FORMAT)) {
            return Err(format!("its stored description has format {format}, which this cairn does not know; upgrade cairn"));
        }
        let decoded = match (kind, versioned) {
            (PluginKind::Aggregate, true) => from_stored(value, DescribedInfo::Aggregate),
            (PluginKind::Migrator, true) => from_stored(value, |steps: Steps| DescribedInfo::Migrator(steps.steps)),
            (PluginKind::Handler, true) => from_stored(value, DescribedInfo::Handler),
            (PluginKind::Aggregate, false) => legacy(value, DescribedInfo::Aggregate),
            (PluginKind::Migrator, false) => legacy(value, |steps: Steps| DescribedInfo::Migrator(steps.steps)),
            (PluginKind::Handler, false) => legacy(value, DescribedInfo::Handler),
        };
        decoded.map_err(|error| format!("its stored description does not describe a {kind} ({error})"))
    }
}

fn from_stored<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    wrap: impl FnOnce(T) -> DescribedInfo,
) -> Result<Description, serde_json::Error> {
    let stored: Stored<T> = serde_json::from_value(value)?;
    Ok(Description { contract: stored.contract, info: wrap(stored.info) })
}

fn legacy<T: serde::de::DeserializeOwned>(value: serde_json::Value, wrap: impl FnOnce(T) -> DescribedInfo) -> Result<Description, serde_json::Error> {
    Ok(Description { contract: ContractVersion::V0_1, info: wrap(serde_json::from_value(value)?) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_descriptions_decode_to_themselves() {
        let aggregate = Description {
            contract: ContractVersion::V0_1,
            info: DescribedInfo::Aggregate(AggregateInfo { aggregate_type: "account".into(), state_version: "1".into(), snapshot_every: None }),
        };
        assert_eq!(Description::decode(PluginKind::Aggregate, &aggregate.encode()).unwrap(), aggregate);
        let migrator = Description {
            contract: ContractVersion::V0_1,
            info: DescribedInfo::Migrator(vec![MigrationStep { event_type: "T".into(), from_version: "1.0".into(), to_version: "2.0".into() }]),
        };
        assert_eq!(Description::decode(PluginKind::Migrator, &migrator.encode()).unwrap(), migrator);
    }

    #[test]
    fn legacy_descriptions_are_read_by_kind() {
        let handler = Description::decode(PluginKind::Handler, r#"{"name":"h","event_types":[],"aggregate_types":["a"]}"#).unwrap();
        assert_eq!(handler.contract, ContractVersion::V0_1);
        assert!(matches!(handler.info, DescribedInfo::Handler(HandlerInfo { ref name, .. }) if name == "h"));
    }

    #[test]
    fn missing_fields_and_wrong_kinds_are_refused() {
        let missing = Description::decode(PluginKind::Aggregate, r#"{"aggregate_type":"account","state_version":"1"}"#).unwrap_err();
        assert!(missing.contains("snapshot_every"), "{missing}");
        assert!(Description::decode(PluginKind::Migrator, r#"{"name":"h","event_types":[],"aggregate_types":[]}"#).is_err());
        assert!(Description::decode(PluginKind::Handler, r#"{"format":9}"#).unwrap_err().contains("format 9"));
        assert!(Description::decode(PluginKind::Handler, "not json").is_err());
    }
}
