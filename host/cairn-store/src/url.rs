use std::fmt;
use std::path::PathBuf;

use super::StoreError;

/// Where the store lives: `sqlite://PATH` or `postgres://…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Sqlite { path: PathBuf },
    /// `url` is the libpq-style URL without Cairn's own `schema` parameter;
    /// `schema` selects a PostgreSQL schema so that several stores can share
    /// one database.
    Postgres { url: String, schema: Option<String> },
}

pub const DEFAULT_STORE_URL: &str = "sqlite://./cairn.db";

impl StoreUrl {
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        if let Some(path) = text.strip_prefix("sqlite://").or_else(|| text.strip_prefix("sqlite:")) {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(StoreError::BadUrl(format!(
                    "store URL `{text}` has no file path; write it like sqlite://./cairn.db"
                )));
            }
            return Ok(StoreUrl::Sqlite { path: PathBuf::from(path) });
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Self::parse_postgres(text));
        }
        Err(StoreError::BadUrl(format!(
            "store URL `{text}` has an unknown scheme; use sqlite://PATH or postgres://USER@HOST:PORT/DATABASE"
        )))
    }

    fn parse_postgres(text: &str) -> Self {
        let Some((base, query)) = text.split_once('?') else {
            return StoreUrl::Postgres { url: text.to_owned(), schema: None };
        };
        let mut schema = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            match pair.strip_prefix("schema=") {
                Some(name) => schema = Some(name.to_owned()),
                None => kept.push(pair),
            }
        }
        let url = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
        StoreUrl::Postgres { url, schema }
    }

    /// The URL with any password replaced, fit for messages and logs.
    pub fn redacted(&self) -> String {
        match self {
            StoreUrl::Sqlite { path } => format!("sqlite://{}", path.display()),
            StoreUrl::Postgres { url, schema } => {
                let mut shown = redact_password(url);
                if let Some(schema) = schema {
                    shown.push_str(if shown.contains('?') { "&schema=" } else { "?schema=" });
                    shown.push_str(schema);
                }
                shown
            }
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((credentials, host)) = rest.split_once('@') else { return url.to_owned() };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_and_postgres_schema_are_parsed() {
        assert_eq!(StoreUrl::parse("sqlite://./a.db").unwrap(), StoreUrl::Sqlite { path: "./a.db".into() });
        assert_eq!(StoreUrl::parse("sqlite:///tmp/a.db").unwrap(), StoreUrl::Sqlite { path: "/tmp/a.db".into() });
        assert_eq!(
            StoreUrl::parse("postgres://u:pw@h/db?sslmode=disable&schema=s1").unwrap(),
            StoreUrl::Postgres { url: "postgres://u:pw@h/db?sslmode=disable".into(), schema: Some("s1".into()) }
        );
        assert!(StoreUrl::parse("mysql://x").is_err());
        assert!(StoreUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn passwords_never_reach_messages() {
        let url = StoreUrl::parse("postgres://user:secret@host:5432/db").unwrap();
        assert_eq!(url.redacted(), "postgres://user:***@host:5432/db");
    }
}
