use clap::Subcommand;

use super::exit::{NotFoundError, UsageError};
use super::Cli;

/// The most documents one `list` prints.
const MAX_LIST: usize = 10_000;

#[derive(Debug, Subcommand)]
pub enum ReadModelCommand {
    /// One document of the live read model, or of another generation
    Get {
        handler: String,
        collection: String,
        key: String,
        /// A generation other than the live one, such as a filtered replay's (its result names it)
        #[arg(long)]
        generation: Option<u64>,
    },
    /// Documents of a collection, by key, as JSON lines
    List {
        handler: String,
        collection: String,
        #[arg(long, default_value = "")]
        prefix: String,
        /// At most this many documents, up to 10,000
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// A generation other than the live one, such as a filtered replay's (its result names it)
        #[arg(long)]
        generation: Option<u64>,
    },
}

pub async fn run(cli: &Cli, command: &ReadModelCommand) -> anyhow::Result<()> {
    let store = cli.open_store().await?;
    match command {
        ReadModelCommand::Get { handler, collection, key, generation } => match store.read_model_get(handler, *generation, collection, key).await? {
            Some(value) => println!("{value}"),
            None => return Err(NotFoundError(format!("no document {collection}/{key} in the read model of {handler}")).into()),
        },
        ReadModelCommand::List { handler, collection, prefix, limit, generation } => {
            if *limit == 0 || *limit > MAX_LIST {
                return Err(UsageError(format!("--limit {limit} is out of range; give 1 to {MAX_LIST}")).into());
            }
            for (key, value) in store.read_model_list(handler, *generation, collection, &cairn::store::KeyPage::prefixed(prefix, *limit)).await? {
                let value = serde_json::from_str::<serde_json::Value>(&value).unwrap_or(serde_json::Value::String(value));
                println!("{}", serde_json::json!({ "key": key, "value": value }));
            }
        }
    }
    Ok(())
}
