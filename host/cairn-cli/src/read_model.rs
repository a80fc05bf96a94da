use clap::Subcommand;

use super::exit::NotFoundError;
use super::Cli;

#[derive(Debug, Subcommand)]
pub enum ReadModelCommand {
    /// One document of the live read model
    Get { handler: String, collection: String, key: String },
    /// Documents of a collection, by key, as JSON lines
    List {
        handler: String,
        collection: String,
        #[arg(long, default_value = "")]
        prefix: String,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

pub async fn run(cli: &Cli, command: &ReadModelCommand) -> anyhow::Result<()> {
    let store = cli.open_store().await?;
    match command {
        ReadModelCommand::Get { handler, collection, key } => match store.read_model_get(handler, None, collection, key).await? {
            Some(value) => println!("{value}"),
            None => return Err(NotFoundError(format!("no document {collection}/{key} in the read model of {handler}")).into()),
        },
        ReadModelCommand::List { handler, collection, prefix, limit } => {
            for (key, value) in store.read_model_list(handler, None, collection, prefix, *limit).await? {
                println!("{}", serde_json::json!({ "key": key, "value": serde_json::from_str::<serde_json::Value>(&value)? }));
            }
        }
    }
    Ok(())
}
