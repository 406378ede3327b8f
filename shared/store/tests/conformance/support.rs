use webhook_domain::{
    Endpoint, EndpointChanges, EndpointId, Label, OrgId, SigningKeys, SigningSecret, Timestamp,
    fixtures,
};
use webhook_store::dynamodb::{local_client, table};
use webhook_store::{DynamoStore, EndpointStore};

/// The DynamoDB-protocol server the tests run against. Missing is a failure, never a skip.
pub fn dynamodb_endpoint() -> String {
    std::env::var("WEBHOOKS_TEST_DYNAMODB_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "WEBHOOKS_TEST_DYNAMODB_ENDPOINT is not set: run scripts/test, which starts \
             moto_server and points the tests at it"
        )
    })
}

/// A store on a fresh table of its own, so tests can run in parallel.
pub async fn dynamo_store() -> DynamoStore {
    let client = local_client(&dynamodb_endpoint());
    let name = format!("conformance-{}", uuid::Uuid::new_v4());
    table::create_if_missing(&client, &name).await.unwrap();
    DynamoStore::new(client, name)
}

pub use webhook_domain::fixtures::at;

pub fn new_endpoint(org: OrgId, label: &str, created: Timestamp) -> (Endpoint, SigningSecret) {
    let (endpoint, secret) = fixtures::endpoint_with_secret(org, created);
    let label = Label::parse(label).unwrap();
    (Endpoint { label, ..endpoint }, secret)
}

/// A new endpoint of `org`, stored (under a limit of 50).
pub async fn created(
    store: &impl EndpointStore,
    org: OrgId,
    label: &str,
    at: Timestamp,
) -> Endpoint {
    let (endpoint, secret) = new_endpoint(org, label, at);
    store.create(&endpoint, &secret, 50, None).await.unwrap();
    endpoint
}

/// The stored `endpoint` as it is after `changes` at `now`.
pub async fn updated(
    store: &impl EndpointStore,
    endpoint: &Endpoint,
    changes: &EndpointChanges,
    now: Timestamp,
) -> Endpoint {
    store
        .update(endpoint.org_id, endpoint.id, changes, now)
        .await
        .unwrap()
}

/// The endpoint and its secrets as delivery reads them; `None` once it is gone.
pub async fn signing(
    store: &impl EndpointStore,
    org: OrgId,
    id: EndpointId,
) -> Option<(Endpoint, SigningKeys)> {
    store.signing_target(org, id).await.unwrap()
}
