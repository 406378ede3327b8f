use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use webhook_domain::{
    ApiKeyRecord, Attempt, AttemptClaim, DeliveryPage, DeliveryRecord, DeliveryRef, DeliveryStats,
    Endpoint, EndpointChanges, EndpointHealth, EndpointId, EventId, ExternalId, IdempotencyKey,
    IdempotencyRecord, KeyId, LegacyWebhook, LogKey, LogQuery, LoggedEvent, Minute, OrgId, Pace,
    PerMinute, Quota, QuotaCount, SigningKeys, SigningSecret, SweepVerdict, Timestamp, is_expired,
    may_revive, sweep_verdict,
};

use crate::{
    ApiKeyStore, DeliveryLogStore, DeliveryStatsStore, DeliveryTargets, EndpointStore, EventRef,
    ExternalIdStore, IdempotencyStore, LegacyWebhookStore, PaceStore, QuotaStore, Recorded, Result,
    RotationAsked, StoreError, StreakCandidate, StreakPage, TurnAsked, sort_oldest_first,
};

/// The embedded default store: everything in one process, gone when it exits. Clones share
/// the same data, so the API, the pipeline and the sweeper of one process see one store.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    orgs: Arc<Mutex<HashMap<OrgId, Org>>>,
    /// Keys are found by id alone, as the authorizer knows no organization yet.
    api_keys: Arc<Mutex<BTreeMap<KeyId, ApiKeyRecord>>>,
    streak_page_size: usize,
    /// What every organization's data answers instead (`MemoryStore::broken`).
    #[cfg(feature = "testing")]
    broken: Option<fn() -> StoreError>,
    /// The one write that fails (`MemoryStore::refusing`).
    #[cfg(feature = "testing")]
    refuses: Option<Refused>,
}

/// A write a test has the memory store refuse, as a throttled table or a missing grant would,
/// while everything else works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    KeepingEvents,
    MarkingFailing,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            orgs: Arc::default(),
            api_keys: Arc::default(),
            streak_page_size: 100,
            #[cfg(feature = "testing")]
            broken: None,
            #[cfg(feature = "testing")]
            refuses: None,
        }
    }
}

#[derive(Debug, Default)]
struct Org {
    endpoints: HashMap<EndpointId, Endpoint>,
    secrets: HashMap<EndpointId, SigningKeys>,
    stats: HashMap<EndpointId, DeliveryStats>,
    legacy: Option<LegacyWebhook>,
    idempotency: HashMap<IdempotencyKey, IdempotencyRecord>,
    /// Each quota's count per minute; only the current minute matters.
    quotas: BTreeMap<(Quota, Minute), u32>,
    /// Each paced endpoint's last turn taken.
    turns: HashMap<EndpointId, Timestamp>,
    external_id: Option<ExternalId>,
    /// The delivery log in key order.
    deliveries: Expiring<LogKey, DeliveryRecord>,
    /// What the log keeps of each event once.
    events: Expiring<EventId, LoggedEvent>,
}

/// Items each with its expiry, dropped as DynamoDB's TTL drops them.
#[derive(Debug)]
struct Expiring<K, V> {
    items: BTreeMap<K, (V, Timestamp)>,
    /// The same keys in expiry order, so expired ones are dropped from the front.
    order: BTreeSet<(Timestamp, K)>,
}

impl<K, V> Default for Expiring<K, V> {
    fn default() -> Self {
        Self {
            items: BTreeMap::new(),
            order: BTreeSet::new(),
        }
    }
}

impl<K: Ord + Clone, V> Expiring<K, V> {
    /// Keeps `value` until `expires_at`, in place of the one stored under `key`.
    fn keep(&mut self, key: K, value: V, expires_at: Timestamp) {
        if let Some((_, previous)) = self.items.insert(key.clone(), (value, expires_at)) {
            self.order.remove(&(previous, key.clone()));
        }
        self.order.insert((expires_at, key));
    }

    fn drop_expired(&mut self, now: Timestamp) {
        while self
            .order
            .first()
            .is_some_and(|(at, _)| is_expired(*at, now))
        {
            if let Some((_, key)) = self.order.pop_first() {
                self.items.remove(&key);
            }
        }
    }
}

impl Org {
    /// The check DynamoDB makes as a condition: a live record holds the key.
    fn key_taken(&self, record: Option<&IdempotencyRecord>, now: Timestamp) -> bool {
        record.is_some_and(|record| {
            self.idempotency
                .get(&record.key)
                .is_some_and(|held| !held.may_be_taken(now))
        })
    }

    fn remember(&mut self, record: Option<&IdempotencyRecord>) {
        let record = record.map(|record| (record.key.clone(), record.clone()));
        self.idempotency.extend(record);
    }

    /// The checks of a rotation's one write, in the order the DynamoDB store reads them, given
    /// whether what is stored may be rotated from `asked.from` (`None`: nothing is); if they
    /// pass, its idempotency record is kept. A held key comes first: a repeat finds the secret
    /// rotated by its own first call.
    fn may_rotate<T>(&mut self, rotates: Option<bool>, asked: RotationAsked<'_, T>) -> Result<()> {
        match rotates {
            _ if self.key_taken(asked.remember, asked.rotation.at) => Err(StoreError::KeyTaken),
            None => Err(StoreError::NotFound),
            Some(false) => Err(StoreError::Superseded),
            Some(true) => {
                self.remember(asked.remember);
                Ok(())
            }
        }
    }

    /// What DynamoDB's TTL does in the background, done here as records come in.
    fn drop_expired(&mut self, now: Timestamp) {
        self.deliveries.drop_expired(now);
        self.events.drop_expired(now);
    }

    /// Keeps the record until `expires_at`, in place of the one stored under its key.
    fn keep(&mut self, record: DeliveryRecord, expires_at: Timestamp) {
        self.deliveries.keep(record.log_key(), record, expires_at);
    }

    /// The record as shown, with its event's body if it keeps none of its own.
    fn shown(&self, record: &DeliveryRecord, now: Timestamp) -> DeliveryRecord {
        let event = self
            .events
            .items
            .get(&record.event_id)
            .filter(|(_, expires_at)| !is_expired(*expires_at, now))
            .map(|(event, _)| event);
        record.clone().with_event_body(event)
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many streak candidates one page returns (default 100).
    pub fn with_streak_page_size(mut self, size: u16) -> Self {
        self.streak_page_size = usize::from(size.max(1));
        self
    }

    fn orgs(&self) -> Result<MutexGuard<'_, HashMap<OrgId, Org>>> {
        self.lock(&self.orgs)
    }

    fn keys(&self) -> Result<MutexGuard<'_, BTreeMap<KeyId, ApiKeyRecord>>> {
        self.lock(&self.api_keys)
    }

    /// One of the store's maps, unless the store was made `broken` for a test.
    fn lock<'a, T>(&self, map: &'a Mutex<T>) -> Result<MutexGuard<'a, T>> {
        #[cfg(feature = "testing")]
        if let Some(error) = self.broken {
            return Err(error());
        }
        map.lock()
            .map_err(|_| StoreError::internal("memory store lock poisoned"))
    }

    /// A store whose every read and write of an organization's data and keys fails with `error`, for
    /// tests of what callers make of storage failures.
    #[cfg(feature = "testing")]
    pub fn broken(error: fn() -> StoreError) -> Self {
        Self {
            broken: Some(error),
            ..Self::default()
        }
    }

    /// A store that fails `write` and does everything else: for tests of what its callers
    /// make of one refused write.
    #[cfg(feature = "testing")]
    pub fn refusing(write: Refused) -> Self {
        Self {
            refuses: Some(write),
            ..Self::default()
        }
    }

    /// `write`'s refusal, if this store was made `refusing` it.
    fn refuse(&self, write: Refused) -> Result<()> {
        #[cfg(feature = "testing")]
        if self.refuses == Some(write) {
            return Err(StoreError::Unavailable(
                format!("refused: {write:?}").into(),
            ));
        }
        let _ = write;
        Ok(())
    }

    /// The stored secret of an endpoint, for tests that check what create wrote.
    #[cfg(feature = "testing")]
    pub fn secret(&self, org: OrgId, id: EndpointId) -> Option<SigningSecret> {
        let orgs = self.orgs().ok()?;
        Some(orgs.get(&org)?.secrets.get(&id)?.current.clone())
    }
}

impl ApiKeyStore for MemoryStore {
    async fn put_api_key(&self, record: &ApiKeyRecord) -> Result<()> {
        self.keys()?.insert(record.id.clone(), record.clone());
        Ok(())
    }

    async fn api_key(&self, id: &KeyId) -> Result<Option<ApiKeyRecord>> {
        Ok(self.keys()?.get(id).cloned())
    }

    async fn api_keys(&self, org: OrgId) -> Result<Vec<ApiKeyRecord>> {
        let mut keys: Vec<ApiKeyRecord> = self
            .keys()?
            .values()
            .filter(|record| record.org_id == org && !record.session)
            .cloned()
            .collect();
        keys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(keys)
    }

    async fn revoke_api_key(&self, id: &KeyId, now: Timestamp) -> Result<ApiKeyRecord> {
        let mut keys = self.keys()?;
        let record = keys.get_mut(id).ok_or(StoreError::NotFound)?;
        record.revoked_at.get_or_insert(now);
        Ok(record.clone())
    }
}

impl QuotaStore for MemoryStore {
    async fn take(&self, count: QuotaCount, wanted: u32, limit: PerMinute) -> Result<u32> {
        let mut orgs = self.orgs()?;
        let quotas = &mut orgs.entry(count.org).or_default().quotas;
        quotas.retain(|(_, counted), _| !counted.is_forgotten_by(count.minute));
        let used = quotas.entry((count.quota, count.minute)).or_default();
        let taken = limit.room(*used, wanted);
        *used += taken;
        Ok(taken)
    }

    async fn counted(&self, count: QuotaCount) -> Result<u32> {
        let orgs = self.orgs()?;
        let used = orgs
            .get(&count.org)
            .and_then(|org| org.quotas.get(&(count.quota, count.minute)));
        Ok(used.copied().unwrap_or(0))
    }

    async fn give_back(&self, count: QuotaCount, n: u32) -> Result<()> {
        let mut orgs = self.orgs()?;
        if let Some(used) = orgs
            .get_mut(&count.org)
            .and_then(|org| org.quotas.get_mut(&(count.quota, count.minute)))
            && *used >= n
        {
            *used -= n;
        }
        Ok(())
    }
}

impl ExternalIdStore for MemoryStore {
    async fn external_id(&self, org: OrgId) -> Result<ExternalId> {
        let mut orgs = self.orgs()?;
        let org = orgs.entry(org).or_default();
        Ok(org
            .external_id
            .get_or_insert_with(ExternalId::generate)
            .clone())
    }
}

impl PaceStore for MemoryStore {
    async fn set_pace(&self, from: &Endpoint, pace: Option<Pace>) -> Result<bool> {
        let mut orgs = self.orgs()?;
        let endpoint = orgs
            .get_mut(&from.org_id)
            .and_then(|org| org.endpoints.get_mut(&from.id));
        Ok(match endpoint {
            Some(endpoint) if endpoint.pace == from.pace => {
                endpoint.pace = pace;
                true
            }
            _ => false,
        })
    }

    async fn take_turn(
        &self,
        org: OrgId,
        id: EndpointId,
        asked: TurnAsked,
    ) -> Result<Option<Timestamp>> {
        let mut orgs = self.orgs()?;
        let turns = &mut orgs.entry(org).or_default().turns;
        let next = turns
            .get(&id)
            .and_then(|last| last.checked_add(asked.interval));
        let turn = next.filter(|next| *next > asked.now).unwrap_or(asked.now);
        if turn > asked.latest {
            return Ok(None);
        }
        turns.insert(id, turn);
        Ok(Some(turn))
    }

    async fn hold_turns(&self, org: OrgId, id: EndpointId, until: Timestamp) -> Result<()> {
        let mut orgs = self.orgs()?;
        let last = orgs
            .entry(org)
            .or_default()
            .turns
            .entry(id)
            .or_insert(until);
        *last = (*last).max(until);
        Ok(())
    }
}

impl EndpointStore for MemoryStore {
    async fn list(&self, org: OrgId) -> Result<Vec<Endpoint>> {
        let orgs = self.orgs()?;
        let mut endpoints: Vec<Endpoint> = orgs
            .get(&org)
            .map(|o| o.endpoints.values().cloned().collect())
            .unwrap_or_default();
        sort_oldest_first(&mut endpoints);
        Ok(endpoints)
    }

    async fn create(
        &self,
        endpoint: &Endpoint,
        secret: &SigningSecret,
        max_per_org: u32,
        remember: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let mut orgs = self.orgs()?;
        let org = orgs.entry(endpoint.org_id).or_default();
        if org.key_taken(remember, endpoint.created_at) {
            return Err(StoreError::KeyTaken);
        }
        if org.endpoints.len() >= max_per_org as usize {
            return Err(StoreError::LimitReached { limit: max_per_org });
        }
        if org.endpoints.contains_key(&endpoint.id) {
            return Err(StoreError::internal("endpoint id already taken"));
        }
        org.remember(remember);
        org.endpoints.insert(endpoint.id, endpoint.clone());
        let keys = SigningKeys::new(secret.clone());
        org.secrets.insert(endpoint.id, keys);
        let stats = DeliveryStats::new(endpoint.org_id, endpoint.id);
        org.stats.insert(endpoint.id, stats);
        Ok(())
    }

    async fn update(
        &self,
        org: OrgId,
        id: EndpointId,
        changes: &EndpointChanges,
        now: Timestamp,
    ) -> Result<Endpoint> {
        let mut orgs = self.orgs()?;
        let endpoint = orgs
            .get_mut(&org)
            .and_then(|o| o.endpoints.get_mut(&id))
            .ok_or(StoreError::NotFound)?;
        changes.apply(endpoint, now);
        Ok(endpoint.clone())
    }

    async fn delivery_targets(&self, org: OrgId) -> Result<DeliveryTargets> {
        let legacy_url_set = self.orgs()?.get(&org).is_some_and(|o| o.legacy.is_some());
        Ok(DeliveryTargets {
            endpoints: self.list(org).await?,
            legacy_url_set,
        })
    }

    async fn signing_target(
        &self,
        org: OrgId,
        id: EndpointId,
    ) -> Result<Option<(Endpoint, SigningKeys)>> {
        let orgs = self.orgs()?;
        Ok(orgs.get(&org).and_then(|org| {
            let endpoint = org.endpoints.get(&id).cloned();
            endpoint.zip(org.secrets.get(&id).cloned())
        }))
    }

    async fn get(&self, org: OrgId, id: EndpointId) -> Result<Endpoint> {
        let orgs = self.orgs()?;
        orgs.get(&org)
            .and_then(|org| org.endpoints.get(&id))
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn rotate_secret(&self, asked: RotationAsked<'_, Endpoint>) -> Result<Endpoint> {
        let (id, rotation) = (asked.from.id, asked.rotation);
        let mut orgs = self.orgs()?;
        let org = orgs
            .get_mut(&asked.from.org_id)
            .ok_or(StoreError::NotFound)?;
        let stored = org.endpoints.get(&id);
        org.may_rotate(
            stored.map(|stored| stored.may_rotate_from(asked.from)),
            asked,
        )?;
        let (Some(endpoint), Some(keys)) = (org.endpoints.get_mut(&id), org.secrets.remove(&id))
        else {
            return Err(StoreError::NotFound);
        };
        org.secrets.insert(id, keys.rotated(rotation.clone()));
        endpoint.rotated(rotation);
        Ok(endpoint.clone())
    }

    async fn delete(&self, org: OrgId, id: EndpointId) -> Result<()> {
        let mut orgs = self.orgs()?;
        let org = orgs.get_mut(&org).ok_or(StoreError::NotFound)?;
        org.endpoints.remove(&id).ok_or(StoreError::NotFound)?;
        org.secrets.remove(&id);
        org.stats.remove(&id);
        Ok(())
    }
}

/// Where the next page starts: after this candidate, in (streak start, id) order.
#[derive(Debug, Clone, Copy)]
pub struct MemoryCursor(Timestamp, EndpointId);

impl DeliveryStatsStore for MemoryStore {
    type Cursor = MemoryCursor;

    async fn record_attempt(
        &self,
        endpoint: &Endpoint,
        attempt: &Attempt,
        gives_up: bool,
    ) -> Result<Recorded> {
        let mut orgs = self.orgs()?;
        let Some(org) = orgs.get_mut(&endpoint.org_id) else {
            return Ok(Recorded::EndpointGone);
        };
        let Some(stats) = org.stats.get_mut(&endpoint.id) else {
            return Ok(Recorded::EndpointGone);
        };
        let streak_was_marked = stats.marked_failing_at.is_some();
        let failing_since = stats.failing_since;
        stats.record(attempt, endpoint.streak_reset_at);
        if gives_up {
            stats.give_up(attempt.at);
        }
        let revived = may_revive(attempt.outcome, endpoint.status, streak_was_marked)
            && org
                .endpoints
                .get_mut(&endpoint.id)
                .is_some_and(|current| current.revive(attempt.at));
        Ok(if revived {
            Recorded::Revived { failing_since }
        } else {
            Recorded::Counted
        })
    }

    async fn delivery_stats(&self, org: OrgId, id: EndpointId) -> Result<Option<DeliveryStats>> {
        let orgs = self.orgs()?;
        Ok(orgs.get(&org).and_then(|o| o.stats.get(&id)).cloned())
    }

    async fn endpoint_health(&self, org: OrgId, id: EndpointId) -> Result<Option<EndpointHealth>> {
        let orgs = self.orgs()?;
        let Some((org, endpoint)) = orgs
            .get(&org)
            .and_then(|o| o.endpoints.get(&id).map(|endpoint| (o, endpoint)))
        else {
            return Ok(None);
        };
        Ok(Some(EndpointHealth {
            endpoint: endpoint.clone(),
            stats: org
                .stats
                .get(&id)
                .cloned()
                .unwrap_or_else(|| DeliveryStats::new(endpoint.org_id, endpoint.id)),
            previous_secret_expires_at: org
                .secrets
                .get(&id)
                .and_then(|keys| keys.previous.as_ref())
                .map(|previous| previous.expires_at),
        }))
    }

    async fn streak_candidates(
        &self,
        cutoff: Timestamp,
        from: Option<MemoryCursor>,
    ) -> Result<StreakPage<MemoryCursor>> {
        let orgs = self.orgs()?;
        let mut candidates: Vec<StreakCandidate> = orgs
            .values()
            .flat_map(|org| org.stats.values())
            .filter_map(|stats| {
                let failing_since = stats.unswept_streak().filter(|since| *since <= cutoff)?;
                Some(StreakCandidate {
                    org_id: stats.org_id,
                    endpoint_id: stats.endpoint_id,
                    failing_since,
                })
            })
            .filter(|c| {
                from.is_none_or(|MemoryCursor(since, id)| {
                    (c.failing_since, c.endpoint_id) > (since, id)
                })
            })
            .collect();
        candidates.sort_by_key(|c| (c.failing_since, c.endpoint_id));
        let full = candidates.len() > self.streak_page_size;
        candidates.truncate(self.streak_page_size);
        let next = candidates.last().filter(|_| full);
        let next = next.map(|c| MemoryCursor(c.failing_since, c.endpoint_id));
        Ok(StreakPage { candidates, next })
    }

    async fn mark_failing(&self, candidate: &StreakCandidate, now: Timestamp) -> Result<bool> {
        self.refuse(Refused::MarkingFailing)?;
        let mut orgs = self.orgs()?;
        let Some(org) = orgs.get_mut(&candidate.org_id) else {
            return Ok(false);
        };
        let (Some(stats), Some(endpoint)) = (
            org.stats.get_mut(&candidate.endpoint_id),
            org.endpoints.get_mut(&candidate.endpoint_id),
        ) else {
            return Ok(false);
        };
        match sweep_verdict(stats, candidate.failing_since, endpoint) {
            SweepVerdict::Mark => {
                endpoint.status = webhook_domain::EndpointStatus::Failing;
                endpoint.updated_at = now;
                stats.marked_failing_at = Some(now);
                Ok(true)
            }
            SweepVerdict::SetAside => {
                stats.parked_at = Some(now);
                Ok(false)
            }
            SweepVerdict::Skip => Ok(false),
        }
    }
}

impl LegacyWebhookStore for MemoryStore {
    async fn legacy_webhook(&self, org: OrgId) -> Result<Option<LegacyWebhook>> {
        Ok(self.orgs()?.get(&org).and_then(|o| o.legacy.clone()))
    }

    async fn set_legacy_webhook(&self, new: &LegacyWebhook) -> Result<LegacyWebhook> {
        let mut orgs = self.orgs()?;
        let org = orgs.entry(new.org_id).or_default();
        let legacy = org.legacy.get_or_insert_with(|| new.clone());
        legacy.url = new.url.clone();
        legacy.updated_at = new.updated_at;
        Ok(legacy.clone())
    }

    async fn rotate_legacy_secret(
        &self,
        asked: RotationAsked<'_, LegacyWebhook>,
    ) -> Result<LegacyWebhook> {
        let mut orgs = self.orgs()?;
        let org = orgs
            .get_mut(&asked.from.org_id)
            .ok_or(StoreError::NotFound)?;
        let stored = org.legacy.as_ref();
        org.may_rotate(
            stored.map(|stored| stored.may_rotate_from(asked.from)),
            asked,
        )?;
        let rotated = org
            .legacy
            .take()
            .ok_or(StoreError::NotFound)?
            .rotated(asked.rotation.clone());
        org.legacy = Some(rotated.clone());
        Ok(rotated)
    }
}

impl IdempotencyStore for MemoryStore {
    async fn idempotency_record(
        &self,
        org: OrgId,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>> {
        Ok(self
            .orgs()?
            .get(&org)
            .and_then(|o| o.idempotency.get(key))
            .filter(|record| record.expires_at > now)
            .cloned())
    }

    async fn reserve(
        &self,
        org: OrgId,
        record: &IdempotencyRecord,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>> {
        let mut orgs = self.orgs()?;
        let org = orgs.entry(org).or_default();
        if org.key_taken(Some(record), now) {
            return Ok(org.idempotency.get(&record.key).cloned());
        }
        org.remember(Some(record));
        Ok(None)
    }

    async fn remember(&self, org: OrgId, record: &IdempotencyRecord) -> Result<()> {
        self.orgs()?.entry(org).or_default().remember(Some(record));
        Ok(())
    }

    async fn forget(&self, org: OrgId, key: &IdempotencyKey) -> Result<()> {
        if let Some(org) = self.orgs()?.get_mut(&org) {
            org.idempotency.remove(key);
        }
        Ok(())
    }
}

impl DeliveryLogStore for MemoryStore {
    async fn keep_event(&self, event: &LoggedEvent, expires_at: Timestamp) -> Result<()> {
        self.refuse(Refused::KeepingEvents)?;
        let mut orgs = self.orgs()?;
        let org = orgs.entry(event.org_id).or_default();
        org.events.keep(event.event_id, event.clone(), expires_at);
        Ok(())
    }

    async fn claim_attempt(
        &self,
        record: &DeliveryRecord,
        claim: AttemptClaim,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool> {
        let mut orgs = self.orgs()?;
        let org = orgs.entry(record.org_id).or_default();
        org.drop_expired(now);
        if let Some((stored, _)) = org.deliveries.items.get_mut(&record.log_key()) {
            let claimed = stored.may_claim(&claim, now);
            if claimed {
                stored.claim = Some(claim);
            }
            return Ok(claimed);
        }
        let claimed = DeliveryRecord {
            claim: Some(claim),
            ..record.clone()
        };
        org.keep(claimed, expires_at);
        Ok(true)
    }

    async fn record_delivery(&self, record: &DeliveryRecord, expires_at: Timestamp) -> Result<()> {
        let mut orgs = self.orgs()?;
        let org = orgs.entry(record.org_id).or_default();
        org.drop_expired(record.last_attempt_at);
        let stored = org.deliveries.items.get(&record.log_key());
        if stored.is_none_or(|(stored, _)| record.supersedes(stored)) {
            org.keep(record.clone(), expires_at);
        }
        Ok(())
    }

    async fn end_delivery(&self, record: &DeliveryRef, attempts: u32) -> Result<()> {
        let mut orgs = self.orgs()?;
        if let Some((stored, _)) = orgs
            .get_mut(&record.org_id)
            .and_then(|org| org.deliveries.items.get_mut(&record.log_key()))
        {
            stored.end(attempts);
        }
        Ok(())
    }

    async fn delivery(
        &self,
        org: OrgId,
        event: EventRef,
        now: Timestamp,
    ) -> Result<Option<DeliveryRecord>> {
        let orgs = self.orgs()?;
        Ok(orgs.get(&org).and_then(|org| {
            org.deliveries
                .items
                .values()
                .find(|(record, expires_at)| {
                    record.event_id == event.event_id
                        && record.destination == event.destination
                        && record.is_shown()
                        && !is_expired(*expires_at, now)
                })
                .map(|(record, _)| org.shown(record, now))
        }))
    }

    async fn reopen_delivery(
        &self,
        record: &DeliveryRef,
        attempts: u32,
        now: Timestamp,
    ) -> Result<bool> {
        let mut orgs = self.orgs()?;
        Ok(orgs
            .get_mut(&record.org_id)
            .and_then(|org| org.deliveries.items.get_mut(&record.log_key()))
            .is_some_and(|(stored, _)| stored.reopen(attempts, now)))
    }

    async fn deliveries(&self, org: OrgId, query: &LogQuery) -> Result<DeliveryPage> {
        let orgs = self.orgs()?;
        let Some(org) = orgs.get(&org) else {
            return Ok(DeliveryPage::default());
        };
        let mut matching = org
            .deliveries
            .items
            .iter()
            .rev()
            .filter(|(key, _)| query.after.as_ref().is_none_or(|after| *key < after))
            .filter(|(_, (record, expires_at))| {
                record.is_shown()
                    && !is_expired(*expires_at, query.now)
                    && query.filter.matches(record)
            })
            .map(|(_, (record, _))| {
                if query.bodies {
                    org.shown(record, query.now)
                } else {
                    record.clone().listed()
                }
            });
        let records: Vec<DeliveryRecord> = matching.by_ref().take(query.limit).collect();
        let has_more = matching.next().is_some();
        let resume_after = records
            .last()
            .filter(|_| has_more)
            .map(DeliveryRecord::log_key);
        Ok(DeliveryPage {
            records,
            has_more,
            resume_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(occurred: i64) -> DeliveryRecord {
        let at = Timestamp::from_unix_millis(occurred).unwrap();
        webhook_domain::fixtures::delivery_record(OrgId::new(1), None, at)
    }

    #[tokio::test]
    async fn expired_records_are_dropped_as_new_ones_come_in() {
        let store = MemoryStore::new();
        let at = |millis| Timestamp::from_unix_millis(millis).unwrap();
        for i in 0..100 {
            store
                .record_delivery(&record(i * 1_000), at(i * 1_000 + 10_000))
                .await
                .unwrap();
        }
        let orgs = store.orgs().unwrap();
        let org = &orgs[&OrgId::new(1)];
        // At the last write (99 s), the records expiring at or before 99 s (the first 90) are gone.
        assert_eq!(org.deliveries.items.len(), 10);
        assert_eq!(org.deliveries.order.len(), 10);
    }
}
