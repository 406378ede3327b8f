//! `webhooks-admin keys create | list | revoke`, `portal-link` and `upgrade`: the API keys of
//! the bundled authorizer, sign-in links to the portal, and the one-off moves an upgrade
//! leaves to the operator, in the
//! deployed table (the AWS SDK's own environment and `TABLE_NAME`) or in a local server's
//! (`--dynamodb-endpoint URL --table NAME`, as dev-server takes them).

use std::io::Write;

use webhook_domain::{
    ApiKeyRecord, ApiKeySecret, Clock, KeyId, Label, OrgId, Role, SessionLength, SystemClock,
};
use webhook_store::dynamodb::{local_client, table};
use webhook_store::{ApiKeyStore, DynamoStore};

#[derive(Debug, clap::Parser)]
#[command(
    name = "webhooks-admin",
    about = "Manages the API keys the bundled authorizer accepts, portal links and upgrades."
)]
pub struct Options {
    /// A DynamoDB-compatible server on this machine instead of AWS (the table is created if
    /// missing, as dev-server does).
    #[arg(long, global = true, value_name = "URL")]
    pub dynamodb_endpoint: Option<String>,
    /// The stack's table (its `TableName` output).
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
    /// Prints a sign-in link to the portal for an organization, as its admin, once; only its
    /// token's SHA-256 is stored, and it ends after --expires-in.
    PortalLink {
        #[arg(long, value_parser = org_id)]
        org: OrgId,
        /// From 5m to 24h.
        #[arg(long, default_value = "1h", value_parser = SessionLength::parse)]
        expires_in: SessionLength,
        /// The API's base URL (the stack's `ApiUrl` output).
        #[arg(long, env = "WEBHOOKS_API_URL", value_parser = api_url)]
        api_url: String,
    },
    /// Moves what a deployed stack kept in an older layout into the current one: endpoint
    /// secrets still in items of their own go into their endpoint items, so delivering to
    /// them reads one item. Scans the table once; safe to run again and while serving.
    Upgrade,
}

#[derive(Debug, clap::Subcommand)]
pub enum Keys {
    /// Issues a key and prints it, once, on standard output; only its SHA-256 is stored.
    Create {
        #[arg(long, value_parser = org_id)]
        org: OrgId,
        #[arg(long, value_parser = role)]
        role: Role,
        #[arg(long, value_parser = Label::parse)]
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
    OrgId::parse(raw)
        .filter(|org| org.get() > 0)
        .ok_or_else(|| format!("expected a positive whole number, got {raw:?}"))
}

fn api_url(raw: &str) -> Result<String, String> {
    let url = raw.trim_end_matches('/');
    let origin_only = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .is_some_and(|rest| !rest.is_empty() && !rest.contains(['/', '?', '#']));
    if origin_only {
        Ok(url.to_owned())
    } else {
        Err(format!(
            "expected the API's base URL, such as https://abc.execute-api.eu-west-1.amazonaws.com, got {raw:?}"
        ))
    }
}

fn role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).ok_or_else(|| format!("expected owner, admin or member, got {raw:?}"))
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
    match options.command {
        Command::Keys(command) => keys(&store, command, SystemClock.now(), out, notes).await,
        Command::PortalLink {
            org,
            expires_in,
            api_url,
        } => {
            let now = SystemClock.now();
            let link = store
                .admin_portal_link(org, expires_in, &api_url, now)
                .await?;
            writeln!(out, "{link}")?;
            writeln!(
                notes,
                "portal link for org {} as admin, until {}; this is the only time it is shown",
                org.get(),
                expires_in.ends(now)
            )?;
            Ok(())
        }
        Command::Upgrade => {
            let done = store.move_secrets_into_endpoints().await?;
            writeln!(
                notes,
                "{} endpoint secrets moved into their endpoint items; {} changed meanwhile \
                 (run again to move them)",
                done.moved, done.left
            )?;
            Ok(())
        }
    }
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
