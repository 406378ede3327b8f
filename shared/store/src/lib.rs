//! Where endpoints and their delivery stats live: DynamoDB in production, an in-memory store
//! for local runs and fast tests. Both pass the same conformance suite (`tests/conformance`).

pub mod dynamodb;
pub mod memory;

use std::future::Future;
use std::time::Duration;

use webhook_domain::{
    ApiKeyRecord, ApiKeySecret, Attempt, AttemptClaim, Caller, DeliveryPage, DeliveryRecord,
    DeliveryRef, DeliveryStats, Destination, Endpoint, EndpointChanges, EndpointHealth, EndpointId,
    ExternalId, IdempotencyKey, IdempotencyRecord, KeyId, LegacyWebhook, LogQuery, LoggedEvent,
    OrgId, Pace, PerMinute, QuotaCount, Role, Rotation, SessionLength, SigningKeys, SigningSecret,
    Timestamp,
};

pub use dynamodb::DynamoStore;
pub use memory::MemoryStore;

type Source = Box<dyn std::error::Error + Send + Sync>;

/// What a store operation comes to.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such endpoint in this organization")]
    NotFound,
    #[error("the organization already has {limit} endpoints")]
    LimitReached { limit: u32 },
    /// The idempotency key to remember is held by a live record: nothing was written.
    #[error("the idempotency key is taken")]
    KeyTaken,
    /// Another write changed what this one was based on first: nothing was written.
    #[error("superseded by a concurrent write")]
    Superseded,
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
    fn list(&self, org: OrgId) -> impl Future<Output = Result<Vec<Endpoint>>> + Send;

    /// Stores a new endpoint and its secret, unless the organization already has `max_per_org`;
    /// with `remember`, also that idempotency record, in the same write (`KeyTaken` if a live
    /// record holds its key).
    fn create(
        &self,
        endpoint: &Endpoint,
        secret: &SigningSecret,
        max_per_org: u32,
        remember: Option<&IdempotencyRecord>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Applies `changes` to the organization's endpoint and returns it as stored afterwards.
    /// Empty changes, or values equal to the stored ones, leave it (and `updated_at`) untouched.
    fn update(
        &self,
        org: OrgId,
        id: EndpointId,
        changes: &EndpointChanges,
        now: Timestamp,
    ) -> impl Future<Output = Result<Endpoint>> + Send;

    /// What an event of the organization goes to: its endpoints (oldest first) and whether its
    /// legacy URL is set. One Query on DynamoDB.
    fn delivery_targets(&self, org: OrgId) -> impl Future<Output = Result<DeliveryTargets>> + Send;

    /// The endpoint and its signing secrets, read together, for delivering to it.
    fn signing_target(
        &self,
        org: OrgId,
        id: EndpointId,
    ) -> impl Future<Output = Result<Option<(Endpoint, SigningKeys)>>> + Send;

    /// The organization's endpoint, read consistently, never its secret.
    fn get(&self, org: OrgId, id: EndpointId) -> impl Future<Output = Result<Endpoint>> + Send;

    /// Rotates the secret of the endpoint `asked.from` (`SigningKeys::rotated`) and returns it
    /// as the rotation left it (`Endpoint::rotated`), built from what was written. Only if its
    /// secret is still the one `from` names: a rotation that another one beat is `Superseded`,
    /// so of concurrent rotations exactly one wins.
    fn rotate_secret(
        &self,
        asked: RotationAsked<'_, Endpoint>,
    ) -> impl Future<Output = Result<Endpoint>> + Send;

    /// Deletes the organization's endpoint and its secret.
    fn delete(&self, org: OrgId, id: EndpointId) -> impl Future<Output = Result<()>> + Send;
}

/// The fan-out's view of an organization.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DeliveryTargets {
    pub endpoints: Vec<Endpoint>,
    pub legacy_url_set: bool,
}

/// Oldest first; ids break ties between endpoints created in the same millisecond.
pub(crate) fn sort_oldest_first(endpoints: &mut [Endpoint]) {
    endpoints.sort_by_key(|e| (e.created_at, e.id));
}

/// An endpoint in a failure streak old enough to be looked at by the sweeper (as the streak
/// index holds it on DynamoDB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct StreakCandidate {
    pub org_id: OrgId,
    pub endpoint_id: EndpointId,
    pub failing_since: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The attempt is counted.
    Counted,
    /// The attempt is counted, and its success made a failing endpoint active again; the
    /// streak it ended began `failing_since`.
    Revived { failing_since: Option<Timestamp> },
    /// The endpoint no longer exists; nothing was written.
    EndpointGone,
}

/// A page of streak candidates and where the next one starts (`None`: that was the last).
#[derive(Debug)]
pub struct StreakPage<C> {
    pub candidates: Vec<StreakCandidate>,
    pub next: Option<C>,
}

/// The record of delivery outcomes per endpoint, and what the failing sweep needs of it.
pub trait DeliveryStatsStore: Send + Sync + 'static {
    /// Where a page of candidates resumes; opaque to callers.
    type Cursor: Send + Sync + std::fmt::Debug;

    /// Records one attempt to `endpoint` (as the delivery last read it), in one write. A failure
    /// starts or continues the streak, a success ends it and revives a failing endpoint;
    /// `gives_up`: the attempt's delivery ends without success. Writes nothing for an endpoint
    /// that no longer exists.
    fn record_attempt(
        &self,
        endpoint: &Endpoint,
        attempt: &Attempt,
        gives_up: bool,
    ) -> impl Future<Output = Result<Recorded>> + Send;

    fn delivery_stats(
        &self,
        org: OrgId,
        id: EndpointId,
    ) -> impl Future<Output = Result<Option<DeliveryStats>>> + Send;

    /// The organization's endpoint with its stats and its previous secret's expiry, in one
    /// consistent read; `None` if it has no such endpoint. Never reads a secret.
    fn endpoint_health(
        &self,
        org: OrgId,
        id: EndpointId,
    ) -> impl Future<Output = Result<Option<EndpointHealth>>> + Send;

    /// Endpoints whose streak began at or before `cutoff`, a page at a time.
    fn streak_candidates(
        &self,
        cutoff: Timestamp,
        from: Option<Self::Cursor>,
    ) -> impl Future<Output = Result<StreakPage<Self::Cursor>>> + Send;

    /// Marks the candidate's endpoint failing if it is still active, still in the same streak,
    /// and was not re-activated after the streak began. Returns whether it did.
    fn mark_failing(
        &self,
        candidate: &StreakCandidate,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// The legacy single-URL webhook of each organization.
pub trait LegacyWebhookStore: Send + Sync + 'static {
    fn legacy_webhook(
        &self,
        org: OrgId,
    ) -> impl Future<Output = Result<Option<LegacyWebhook>>> + Send;

    /// Sets the organization's URL to `new`'s: the first call creates the webhook from `new`'s
    /// URL, current secret and times (`LegacyWebhook::new`), later ones change the URL and
    /// `updated_at`, and keep the secret and creation time they find. One write.
    fn set_legacy_webhook(
        &self,
        new: &LegacyWebhook,
    ) -> impl Future<Output = Result<LegacyWebhook>> + Send;

    /// Rotates the organization secret like an endpoint's, from the webhook as the caller read
    /// it (`LegacyWebhook::may_rotate_from`): `Superseded` when another rotation came first,
    /// `NotFound` when the URL was removed. The answer is `from` rotated, never read again.
    fn rotate_legacy_secret(
        &self,
        asked: RotationAsked<'_, LegacyWebhook>,
    ) -> impl Future<Output = Result<LegacyWebhook>> + Send;
}

/// A rotation of the secret of `from`, as the caller read it; with `remember`, that idempotency
/// record is written with it, as for `create`.
#[derive(Debug)]
pub struct RotationAsked<'a, T> {
    pub from: &'a T,
    pub rotation: &'a Rotation,
    pub remember: Option<&'a IdempotencyRecord>,
}

// By hand: derived, they would ask `T: Copy` of what is only borrowed.
impl<T> Clone for RotationAsked<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for RotationAsked<'_, T> {}

impl<'a, T> RotationAsked<'a, T> {
    pub fn new(from: &'a T, rotation: &'a Rotation) -> Self {
        Self {
            from,
            rotation,
            remember: None,
        }
    }
}

/// What an organization's idempotency keys answered, each kept for 24 hours (TTL on DynamoDB).
pub trait IdempotencyStore: Send + Sync + 'static {
    /// The record of `key`, unless it has expired by `now`. One consistent read.
    fn idempotency_record(
        &self,
        org: OrgId,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<IdempotencyRecord>>> + Send;

    /// Takes the key of `record` (a request starting) unless a record that may not be taken
    /// (`IdempotencyRecord::may_be_taken`) holds it: that record is returned instead. One write.
    fn reserve(
        &self,
        org: OrgId,
        record: &IdempotencyRecord,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<IdempotencyRecord>>> + Send;

    /// Stores what the request answered, over its reservation.
    fn remember(
        &self,
        org: OrgId,
        record: &IdempotencyRecord,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Lets go of a key whose request failed, so that a retry starts afresh.
    fn forget(&self, org: OrgId, key: &IdempotencyKey) -> impl Future<Output = Result<()>> + Send;
}

/// The delivery log: one record per event per destination. The record is also the ledger of
/// attempts, so each attempt is made once whatever SQS redelivers.
pub trait DeliveryLogStore: Send + Sync + 'static {
    /// Keeps what the log needs of an event once, for all its records (`LoggedEvent`), until
    /// `expires_at`, replacing what was kept before (a resend keeps it again, for longer).
    /// Written before the first of its records, which then need not carry the body. One write.
    fn keep_event(
        &self,
        event: &LoggedEvent,
        expires_at: Timestamp,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Claims attempt `claim.attempt` of the delivery `record` names, before it is made:
    /// `true` if the caller may make it (`DeliveryRecord::may_claim`). With no record yet,
    /// `record` (not yet shown: no attempt made) is written with the claim, to be kept until
    /// `expires_at`; otherwise only the claim is. One conditional write.
    fn claim_attempt(
        &self,
        record: &DeliveryRecord,
        claim: AttemptClaim,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Writes the record as it stands after an attempt, to be kept until `expires_at`, unless
    /// the stored record has seen more attempts (this write is a late duplicate). One write.
    fn record_delivery(
        &self,
        record: &DeliveryRecord,
        expires_at: Timestamp,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Marks a record `failed` whose delivery was dropped between attempts (its endpoint was
    /// deleted or disabled): no next retry. Nothing if there is no such record, it has moved
    /// past `attempts`, or it is delivered (a duplicate of the job got through).
    fn end_delivery(
        &self,
        record: &DeliveryRef,
        attempts: u32,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The page of the organization's log `query` asks for, newest first. Never a short page
    /// while more match; expired records are not returned even before storage removes them.
    fn deliveries(
        &self,
        org: OrgId,
        query: &LogQuery,
    ) -> impl Future<Output = Result<DeliveryPage>> + Send;

    /// The organization's record of one event at one destination (`None`: the legacy URL),
    /// with its attempts and body, if it is shown and not expired at `now`.
    fn delivery(
        &self,
        org: OrgId,
        event: EventRef,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<DeliveryRecord>>> + Send;

    /// Opens the record for a resend (`DeliveryRecord::reopen`): `true` if it did. One
    /// conditional write.
    fn reopen_delivery(
        &self,
        record: &DeliveryRef,
        attempts: u32,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// One event at one destination, as a caller names it (no time: that is what the store looks
/// up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRef {
    pub event_id: webhook_domain::EventId,
    pub destination: Destination,
}

/// The bundled authorizer's API keys: only their digests are kept.
pub trait ApiKeyStore: Send + Sync + 'static {
    /// Keeps an issued key's record (replacing one with the same id: dev-server re-seeds its
    /// `--api-key`s on every start). A portal session's is kept only where the authorizer reads
    /// keys, never listed, until its `valid_until` (then TTL removes it).
    fn put_api_key(&self, record: &ApiKeyRecord) -> impl Future<Output = Result<()>> + Send;

    /// Opens a portal session for `by` lasting `length` from `now`: its token (shown once, in a
    /// link) and its end. Only the token's digest is kept.
    fn open_portal_session(
        &self,
        by: Caller,
        length: SessionLength,
        now: Timestamp,
    ) -> impl Future<Output = Result<(ApiKeySecret, Timestamp)>> + Send {
        async move {
            let token = ApiKeySecret::generate_session().map_err(StoreError::internal)?;
            let end = length.ends(now);
            self.put_api_key(&ApiKeyRecord::session(&token, by, end, now))
                .await?;
            Ok((token, end))
        }
    }

    /// A sign-in link at `origin` for a portal session of `org`'s admins, as an operator hands
    /// one out (webhooks-admin, dev-server's first start).
    fn admin_portal_link(
        &self,
        org: OrgId,
        length: SessionLength,
        origin: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<String>> + Send {
        async move {
            let admin = Caller {
                org,
                role: Role::Admin,
                session: false,
            };
            let (token, _) = self.open_portal_session(admin, length, now).await?;
            Ok(token.portal_link(origin))
        }
    }

    /// The record of the key with this id, revoked or not: the authorizer's one read.
    fn api_key(&self, id: &KeyId) -> impl Future<Output = Result<Option<ApiKeyRecord>>> + Send;

    /// The organization's keys, oldest first, revoked ones included; never a portal session.
    fn api_keys(&self, org: OrgId) -> impl Future<Output = Result<Vec<ApiKeyRecord>>> + Send;

    /// Revokes a key from `now` on and answers its record; a key revoked before keeps its first
    /// revocation time. `NotFound` if no key has this id.
    fn revoke_api_key(
        &self,
        id: &KeyId,
        now: Timestamp,
    ) -> impl Future<Output = Result<ApiKeyRecord>> + Send;
}

/// The per-organization quotas: counts per minute (`QuotaCount`).
pub trait QuotaStore: Send + Sync + 'static {
    /// Counts as many of `wanted` as `limit` still has room for in `count`, and answers how
    /// many that was (0 when the minute is full). Concurrent takes never count more than the
    /// limit between them.
    fn take(
        &self,
        count: QuotaCount,
        wanted: u32,
        limit: PerMinute,
    ) -> impl Future<Output = Result<u32>> + Send;

    /// What `count` stands at now (a strongly consistent read).
    fn counted(&self, count: QuotaCount) -> impl Future<Output = Result<u32>> + Send;

    /// Gives back `n` of what a take counted (an attempt in flight has ended).
    fn give_back(&self, count: QuotaCount, n: u32) -> impl Future<Output = Result<()>> + Send;
}

/// What a delivery asks of its endpoint's turns.
#[derive(Debug, Clone, Copy)]
pub struct TurnAsked {
    pub now: Timestamp,
    /// Between two turns: `Pace::interval` of the endpoint's rate.
    pub interval: Duration,
    /// The latest turn worth having: the end of the delivery's schedule. A delivery that would
    /// wait longer goes then without one, so turns never queue up past any schedule.
    pub latest: Timestamp,
    /// Whether turns are likely taken ahead of this one (its receiver asked to slow down):
    /// DynamoDB tries that way first, so the likely case costs one write.
    pub queued: bool,
}

/// How fast an endpoint is sent deliveries (`webhook_domain::pace`): its pace, kept in the
/// endpoint item delivery reads anyway, and its turns, kept in an item of their own that only
/// paced deliveries write.
pub trait PaceStore: Send + Sync + 'static {
    /// Sets the pace of the endpoint `from` (`None` ends it), only while it is still the pace
    /// `from` was read with: of concurrent changes from one answer's worth of pace, one is made.
    /// Answers whether it was (`false` too when the endpoint is gone).
    fn set_pace(
        &self,
        from: &Endpoint,
        pace: Option<Pace>,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// The endpoint's next turn to be sent a delivery, taken: `now` if its last turn was
    /// more than an interval ago, else an interval after the last one taken; none, and
    /// nothing taken, if that is after `asked.latest`. Concurrent takers each get a turn of
    /// their own.
    fn take_turn(
        &self,
        org: OrgId,
        id: EndpointId,
        asked: TurnAsked,
    ) -> impl Future<Output = Result<Option<Timestamp>>> + Send;

    /// No turn before `until` (a receiver's `Retry-After`): it counts as a turn taken then,
    /// unless a later one was.
    fn hold_turns(
        &self,
        org: OrgId,
        id: EndpointId,
        until: Timestamp,
    ) -> impl Future<Output = Result<()>> + Send;
}

pub trait ExternalIdStore: Send + Sync + 'static {
    /// The id the platform assumes the organization's roles with: issued at random on the
    /// first ask, the same ever after (a role trusts this one id).
    fn external_id(&self, org: OrgId) -> impl Future<Output = Result<ExternalId>> + Send;
}

/// Everything the product keeps: what the delivery pipeline and the local server need. Clones
/// share one store (an SDK client, or the in-memory data).
pub trait Store:
    EndpointStore
    + DeliveryStatsStore
    + DeliveryLogStore
    + LegacyWebhookStore
    + IdempotencyStore
    + ApiKeyStore
    + QuotaStore
    + PaceStore
    + ExternalIdStore
    + Clone
{
}

impl Store for MemoryStore {}
impl Store for DynamoStore {}
