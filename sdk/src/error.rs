use std::fmt;

/// Why a plugin call did not succeed. The variant tells the host what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    /// A business rule refused the command. The caller sees the text as it is.
    Rejected(String),
    /// Input the plugin cannot understand: bad JSON, an unknown type, a missing field.
    Invalid(String),
    /// A bug or an unexpected state inside the plugin.
    Internal(String),
}

impl PluginError {
    /// A business rule refused the command, such as "insufficient funds".
    pub fn rejected(message: impl Into<String>) -> Self {
        PluginError::Rejected(message.into())
    }

    /// The input could not be understood.
    pub fn invalid(message: impl Into<String>) -> Self {
        PluginError::Invalid(message.into())
    }

    /// Something went wrong inside the plugin.
    pub fn internal(message: impl Into<String>) -> Self {
        PluginError::Internal(message.into())
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginError::Rejected(message) => write!(f, "rejected: {message}"),
            PluginError::Invalid(message) => write!(f, "invalid: {message}"),
            PluginError::Internal(message) => write!(f, "internal: {message}"),
        }
    }
}

impl std::error::Error for PluginError {}
