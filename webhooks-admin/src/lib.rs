//! `webhooks-admin keys create | list | revoke`: the API keys of the bundled authorizer, in the
//! deployed table (the AWS SDK's own environment and `TABLE_NAME`) or in a local server's
//! (`--dynamodb-endpoint URL --table NAME`, as dev-server takes them).

use std::io::Write;

use webhook_domain::{ApiKeyRecord, ApiKeySecret, Clock, KeyId, Label, OrgId, Role, SystemClock};
use webhook_store::dynamodb::{local_client, table};
use webhook_store::{ApiKeyStore, DynamoStore};

#[derive(Debug, clap::Parser)]
#[command(
    name = "webhooks-admin",
    about = "Manages the API keys the bundled authorizer accepts."
)]
pub struct Options {
    /// A DynamoDB-compatible server on this machine instead of AWS (the table is created if
    /// missing, as dev-server does).
    #[arg(long, global = true, value_name = "URL")]
    pub dynamodb_endpoint: Option<String>,
    /// The stack's table (its `WebhooksTable` output).
    #[arg(long, global = true, env = "TABLE_NAME", default_value = "webhooks")]
    pub table: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// API keys: each names one organization and one role.
    #[command(subcommand)]
    Keys(Keys),
}

#[derive(Debug, clap::Subcommand)]
pub enum Keys {
    /// Issues a key and prints it, once, on standard output; only its SHA-256 is stored.
    Create {
        #[arg(long, value_parser = org_id)]
        org: OrgId,
        #[arg(long, value_parser = role)]
        role: Role,
        #[arg(long, value_parser = label)]
        label: Option<Label>,
    },
    /// Lists an organization's keys (ids, roles, labels, hints, times), never a key.
    List {
        #[arg(long, value_parser = org_id)]
        org: OrgId,
    },
    /// Revokes a key; the authorizer's cache may accept it until `ReauthorizeEvery` passes.
    Revoke {
        #[arg(value_parser = key_id)]
        key_id: KeyId,
    },
}

fn org_id(raw: &str) -> Result<OrgId, String> {
    OrgId::parse(raw).ok_or_else(|| format!("expected a positive whole number, got {raw:?}"))
}

fn role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).ok_or_else(|| format!("expected owner, admin or member, got {raw:?}"))
}

fn label(raw: &str) -> Result<Label, String> {
    Label::parse(raw).map_err(|error| error.to_string())
}

fn key_id(raw: &str) -> Result<KeyId, String> {
    KeyId::parse(raw).ok_or_else(|| format!("expected a key id (20 hex digits), got {raw:?}"))
}

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Runs one command: the key (only for `create`) and listings go to `out`, notes to `notes`.
pub async fn run(
    options: Options,
    out: &mut impl Write,
    notes: &mut impl Write,
) -> Result<(), Error> {
    let store = match &options.dynamodb_endpoint {
        Some(endpoint) => {
            let client = local_client(endpoint);
            table::create_if_missing(&client, &options.table).await?;
            DynamoStore::new(client, options.table)
        }
        None => {
            let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), options.table)
        }
    };
    let Command::Keys(command) = options.command;
    keys(&store, command, SystemClock.now(), out, notes).await
}

/// The key commands on any store.
pub async fn keys<S: ApiKeyStore>(
    store: &S,
    command: Keys,
    now: webhook_domain::Timestamp,
    out: &mut impl Write,
    notes: &mut impl Write,
) -> Result<(), Error> {
    match command {
        Keys::Create { org, role, label } => {
            let key = ApiKeySecret::generate()?;
            let record = ApiKeyRecord::new(&key, org, role, label, now);
            store.put_api_key(&record).await?;
            writeln!(out, "{}", key.expose())?;
            writeln!(
                notes,
                "key {} for org {} ({}) created; this is the only time it is shown",
                record.id,
                org.get(),
                role.as_str()
            )?;
        }
        Keys::List { org } => {
            writeln!(out, "ID\tROLE\tLABEL\tHINT\tCREATED\tREVOKED")?;
            for record in store.api_keys(org).await? {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    record.id,
                    record.role.as_str(),
                    record.label.as_ref().map_or("-", |label| label.as_str()),
                    record.hint,
                    record.created_at,
                    record
                        .revoked_at
                        .map_or_else(|| "-".to_owned(), |at| at.to_string()),
                )?;
            }
        }
        Keys::Revoke { key_id } => {
            let record = store
                .revoke_api_key(&key_id, now)
                .await
                .map_err(|error| match error {
                    webhook_store::StoreError::NotFound => {
                        format!("no key has the id {key_id}").into()
                    }
                    other => Error::from(other),
                })?;
            let revoked = record.revoked_at.unwrap_or(now);
            writeln!(
                notes,
                "key {key_id} of org {} revoked at {revoked}",
                record.org_id.get()
            )?;
        }
    }
    Ok(())
}
