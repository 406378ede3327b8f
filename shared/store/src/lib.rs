//! Where endpoints live: DynamoDB in production, an in-memory store for local runs and fast
//! tests. Both pass the same conformance suite (`tests/conformance`).

pub mod dynamodb;
pub mod memory;

use std::future::Future;

use webhook_domain::{Endpoint, EndpointChanges, EndpointId, OrgId, SigningSecret, Timestamp};

pub use dynamodb::DynamoStore;
pub use memory::MemoryStore;

type Source = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such endpoint in this organization")]
    NotFound,
    #[error("the organization already has {limit} endpoints")]
    LimitReached { limit: u32 },
    /// Throttling, timeouts and outages: worth retrying later.
    #[error("storage is unavailable: {0}")]
    Unavailable(#[source] Source),
    #[error("storage failed: {0}")]
    Internal(#[source] Source),
}

impl StoreError {
    pub(crate) fn internal(error: impl Into<Source>) -> Self {
        Self::Internal(error.into())
    }
}

/// The endpoint operations the API needs, each a single storage request on DynamoDB.
pub trait EndpointStore: Send + Sync + 'static {
    /// The organization's endpoints, oldest first.
    fn list(&self, org: OrgId) -> impl Future<Output = Result<Vec<Endpoint>, StoreError>> + Send;

    /// Stores a new endpoint and its secret, unless the organization already has `max_per_org`.
    fn create(
        &self,
        endpoint: &Endpoint,
        secret: &SigningSecret,
        max_per_org: u32,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Applies `changes` to the organization's endpoint and returns it as stored afterwards.
    /// Empty changes, or values equal to the stored ones, leave it (and `updated_at`) untouched.
    fn update(
        &self,
        org: OrgId,
        id: EndpointId,
        changes: &EndpointChanges,
        now: Timestamp,
    ) -> impl Future<Output = Result<Endpoint, StoreError>> + Send;

    /// Deletes the organization's endpoint and its secret.
    fn delete(
        &self,
        org: OrgId,
        id: EndpointId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Oldest first; ids break ties between endpoints created in the same millisecond.
pub(crate) fn sort_oldest_first(endpoints: &mut [Endpoint]) {
    endpoints.sort_by_key(|e| (e.created_at, e.id));
}
