//! The delivery log: records under `LOG#<org>#<shard>`, sorted by their log key, expired by TTL.

use std::collections::{BTreeSet, HashMap};

use futures::future::try_join_all;

use webhook_domain::{
    AttemptClaim, DeliveryFilter, DeliveryPage, DeliveryRecord, DeliveryRef, DeliveryStatus,
    Destination, EndpointId, EventId, LOST_AFTER, LogKey, LogQuery, LoggedEvent, OrgId, Timestamp,
    is_expired,
};

use super::DynamoStore;
use super::conditions::{ENDS, MAY_CLAIM, REOPENS, SUPERSEDES};
use super::errors::{classify, written};
use super::items::{epoch_seconds, from_item, number, projection_names, string, to_item, to_value};
use super::keys::{
    DESTINATION_LOG, ENDPOINT_LOG, EVENT_LOG, EXPIRES_AT, Holds, Index, Keys, LOG_SHARDS,
    PROBLEM_LOG, endpoint_log_partition, event_log_key, log_partition, log_shard,
};
use crate::{DeliveryLogStore, EventRef, Result, StoreError};

/// Where a page of the log is read: the table, or an index that holds only what the filter
/// asks for.
#[derive(Debug, Clone, Copy)]
enum LogSource {
    Table,
    /// `log-by-destination`: the keys of an endpoint's records and what filters test.
    Destination(EndpointId),
    /// `log-by-endpoint`: an endpoint's records written before `log-by-destination`, whole.
    OlderEndpoint(EndpointId),
    Problems,
}

impl LogSource {
    /// The sources a page under `filter` reads, each in every shard.
    fn for_filter(filter: &DeliveryFilter) -> Vec<Self> {
        match (filter.endpoint_id, filter.status) {
            (Some(id), _) => vec![Self::Destination(id), Self::OlderEndpoint(id)],
            (None, Some(DeliveryStatus::Failed)) => vec![Self::Problems],
            _ => vec![Self::Table],
        }
    }

    fn index(self) -> Option<Index> {
        match self {
            Self::Table => None,
            Self::Destination(_) => Some(DESTINATION_LOG),
            Self::OlderEndpoint(_) => Some(ENDPOINT_LOG),
            Self::Problems => Some(PROBLEM_LOG),
        }
    }

    fn partition(self, org: OrgId, shard: u8) -> String {
        match self {
            Self::Table | Self::Problems => log_partition(org, shard),
            Self::Destination(id) | Self::OlderEndpoint(id) => {
                endpoint_log_partition(org, id, shard)
            }
        }
    }

    /// Whether its items are whole records; `log-by-destination`'s are keys and what filters
    /// test, and the records are read from the table once the page is known.
    fn holds_records(self) -> bool {
        self.index()
            .is_none_or(|index| matches!(index.holds, Holds::Everything))
    }

    /// Whether every record of the source matches the filter's content conditions, so the
    /// first `wanted` items are the answer and no more need be read.
    fn covers(self, filter: &DeliveryFilter) -> bool {
        match self {
            Self::Table => !filter.narrows_by_content(),
            Self::Destination(_) | Self::OlderEndpoint(_) => {
                filter.agent_id.is_none() && filter.event_type.is_none() && filter.status.is_none()
            }
            Self::Problems => false,
        }
    }
}

/// A record a shard's read found: whole, or its keys only (read from the table afterwards).
enum Found {
    Record(DeliveryRecord),
    Keys(LogKey, Keys),
}

impl Found {
    fn log_key(&self) -> LogKey {
        match self {
            Self::Record(record) => record.log_key(),
            Self::Keys(key, _) => key.clone(),
        }
    }
}

impl DeliveryLogStore for DynamoStore {
    async fn keep_event(&self, event: &LoggedEvent, expires_at: Timestamp) -> Result<()> {
        let mut item = to_item(event)?;
        item.extend(Keys::logged_event(event.org_id, event.event_id).into_map());
        item.insert(EXPIRES_AT.into(), epoch_seconds(expires_at));
        self.put(item).send().await.map(drop).map_err(classify)
    }

    async fn claim_attempt(
        &self,
        record: &DeliveryRecord,
        claim: AttemptClaim,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool> {
        // One UpdateItem: every attribute of `record` only if there is no record yet (not yet
        // shown, and in no index: it carries no index key), the claim in any case.
        let mut item = to_item(record)?;
        item.insert(EXPIRES_AT.into(), epoch_seconds(expires_at));
        item.remove("claim");
        let mut names = HashMap::from([
            ("#claim".to_owned(), "claim".to_owned()),
            ("#attempt".to_owned(), "attempt".to_owned()),
            ("#until".to_owned(), "until".to_owned()),
        ]);
        let mut values = HashMap::from([
            (":claim".to_owned(), to_value(&claim)?),
            (":n".to_owned(), number(claim.attempt)),
            (":now".to_owned(), string(now)),
        ]);
        let mut sets = vec!["#claim = :claim".to_owned()];
        for (i, (name, value)) in item.into_iter().enumerate() {
            sets.push(format!("#a{i} = if_not_exists(#a{i}, :a{i})"));
            names.insert(format!("#a{i}"), name);
            values.insert(format!(":a{i}"), value);
        }
        let result = self
            .update(Keys::delivery(&record.reference()))
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression(MAY_CLAIM)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        written(result)
    }

    async fn record_delivery(&self, record: &DeliveryRecord, expires_at: Timestamp) -> Result<()> {
        let item = delivery_item(record, expires_at)?;
        let result = self
            .put(item)
            .condition_expression(SUPERSEDES)
            .expression_attribute_values(":attempts", number(record.attempt_count))
            .expression_attribute_values(":at", string(record.last_attempt_at))
            .send()
            .await;
        // A failed condition: the stored record has seen a later attempt, this is a late duplicate.
        written(result).map(drop)
    }

    async fn end_delivery(&self, record: &DeliveryRef, attempts: u32) -> Result<()> {
        let updated = self
            .update(Keys::delivery(record))
            // Failed records also belong in the problem index.
            .update_expression("SET #status = :failed, #problem = :partition REMOVE next_retry_at")
            .condition_expression(ENDS)
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#problem", PROBLEM_LOG.key)
            .expression_attribute_values(":failed", string(DeliveryStatus::Failed))
            .expression_attribute_values(":delivered", string(DeliveryStatus::Delivered))
            .expression_attribute_values(
                ":partition",
                string(log_partition(record.org_id, log_shard(record))),
            )
            .expression_attribute_values(":attempts", number(attempts))
            .send()
            .await;
        written(updated).map(drop)
    }

    async fn delivery(
        &self,
        org: OrgId,
        event: EventRef,
        now: Timestamp,
    ) -> Result<Option<DeliveryRecord>> {
        // The event's item says when it happened, which gives the record's keys.
        let logged = self.logged_event(org, event.event_id, now).await?;
        let mut item = None;
        if let Some(logged) = &logged {
            let keys = Keys::delivery(&DeliveryRef {
                org_id: org,
                event_id: event.event_id,
                destination: event.destination,
                occurred_at: logged.occurred_at,
            });
            item = self.read_item(keys, None).await?;
        }
        // Records written before events were kept on their own are found by their index (and
        // a job queued before may have placed its record at its own first attempt's time).
        if item.is_none()
            && let Some(keys) = self.keys_by_event_index(org, event).await?
        {
            item = self.read_item(keys, None).await?;
        }
        let Some(item) = item else {
            return Ok(None);
        };
        let kept = expiry_of(&item).is_none_or(|at| !is_expired(at, now));
        let record: DeliveryRecord = from_item(item)?;
        let shown = record.org_id == org && record.is_shown() && kept;
        Ok(shown.then(|| record.with_event_body(logged.as_ref())))
    }

    async fn reopen_delivery(
        &self,
        record: &DeliveryRef,
        attempts: u32,
        now: Timestamp,
    ) -> Result<bool> {
        // `DeliveryRecord::awaits_attempt` no longer holds once the next attempt is LOST_AFTER
        // overdue.
        let overdue = i64::try_from(LOST_AFTER.as_millis()).unwrap_or(i64::MAX);
        let lost =
            Timestamp::from_unix_millis(now.unix_millis().saturating_sub(overdue)).unwrap_or(now);
        let result = self
            .update(Keys::delivery(record))
            // The problem index holds failed records only.
            .update_expression("SET #status = :retrying, next_retry_at = :now REMOVE #problem")
            .condition_expression(REOPENS)
            .expression_attribute_values(":lost", string(lost))
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#problem", PROBLEM_LOG.key)
            .expression_attribute_values(":retrying", string(DeliveryStatus::Retrying))
            .expression_attribute_values(":now", string(now))
            .expression_attribute_values(":zero", number(0))
            .expression_attribute_values(":attempts", number(attempts))
            .send()
            .await;
        written(result)
    }

    async fn deliveries(&self, org: OrgId, query: &LogQuery) -> Result<DeliveryPage> {
        let (filter, limit) = (&query.filter, query.limit);
        // Each shard of each source gives its newest `limit + 1` matches, or stops at its read
        // budget; the page is the newest `limit` of them all, and one more anywhere means there
        // is more.
        let reads = LogSource::for_filter(filter)
            .into_iter()
            .flat_map(|source| {
                (0..LOG_SHARDS).map(move |shard| {
                    let partition = source.partition(org, shard);
                    self.newest_in_shard(source, partition, query, limit + 1)
                })
            });
        let reads = try_join_all(reads).await?;
        // Below the highest point where a shard ran out of budget, that shard is unread: only
        // records from there up are known to be in order, and the next page resumes there.
        let horizon = reads
            .iter()
            .filter_map(|read| read.stopped_at.clone())
            .max();
        let mut found: Vec<Found> = reads
            .into_iter()
            .flat_map(|read| read.found)
            .filter(|found| horizon.as_ref().is_none_or(|h| found.log_key() >= *h))
            .collect();
        found.sort_by_cached_key(|found| std::cmp::Reverse(found.log_key()));
        // A record from before, rewritten a moment ago, may still be in both endpoint indexes.
        found.dedup_by_key(|found| found.log_key());
        let full = found.len() > limit;
        found.truncate(limit);
        let resume_after = if full {
            found.last().map(Found::log_key)
        } else {
            horizon
        };
        let mut records = self.whole_records(found, query).await?;
        if query.bodies {
            records = self.with_event_bodies(org, records, query.now).await?;
        }
        Ok(DeliveryPage {
            has_more: resume_after.is_some(),
            records,
            resume_after,
        })
    }
}

/// When an item expires, if it says.
fn expiry_of(item: &super::Item) -> Option<Timestamp> {
    let seconds = item.get(EXPIRES_AT)?.as_n().ok()?.parse::<i64>().ok()?;
    Timestamp::from_unix_millis(seconds.saturating_mul(1000))
}

/// A logged event's item as the event, unless it has expired by `now` (TTL removes it later).
fn unexpired_event(item: super::Item, now: Timestamp) -> Result<Option<LoggedEvent>> {
    if expiry_of(&item).is_some_and(|at| is_expired(at, now)) {
        return Ok(None);
    }
    from_item(item).map(Some)
}

impl DynamoStore {
    /// What the log keeps of the event, unless it has expired by `now`. One consistent GetItem.
    async fn logged_event(
        &self,
        org: OrgId,
        event_id: EventId,
        now: Timestamp,
    ) -> Result<Option<LoggedEvent>> {
        let item = self
            .read_item(Keys::logged_event(org, event_id), None)
            .await?;
        item.map_or(Ok(None), |item| unexpired_event(item, now))
    }

    /// The table keys of a record written before events were kept apart, from `log-by-event`.
    async fn keys_by_event_index(&self, org: OrgId, event: EventRef) -> Result<Option<Keys>> {
        let found = self
            .query(Some(EVENT_LOG.name))
            .key_condition_expression("#event = :event")
            .expression_attribute_names("#event", EVENT_LOG.key)
            .expression_attribute_values(
                ":event",
                string(event_log_key(org, event.event_id, event.destination)),
            )
            .limit(1)
            .send()
            .await
            .map_err(classify)?;
        Ok(found.items().first().and_then(Keys::of_item))
    }

    /// The records, each with its event's body where it keeps none of its own: one consistent
    /// BatchGetItem per hundred events.
    async fn with_event_bodies(
        &self,
        org: OrgId,
        records: Vec<DeliveryRecord>,
        now: Timestamp,
    ) -> Result<Vec<DeliveryRecord>> {
        let wanted: BTreeSet<EventId> = records
            .iter()
            .filter(|record| record.body.is_none())
            .map(|record| record.event_id)
            .collect();
        let keys = wanted
            .iter()
            .map(|id| Keys::logged_event(org, *id))
            .collect();
        let mut events: HashMap<EventId, LoggedEvent> = HashMap::new();
        for item in self.read_items(keys, None).await? {
            if let Some(event) = unexpired_event(item, now)? {
                events.insert(event.event_id, event);
            }
        }
        Ok(records
            .into_iter()
            .map(|record| {
                let event = events.get(&record.event_id);
                record.with_event_body(event)
            })
            .collect())
    }
}

/// A delivery record as its item: its keys, its expiry, and the index keys it belongs under.
pub(super) fn delivery_item(record: &DeliveryRecord, expires_at: Timestamp) -> Result<super::Item> {
    let reference = record.reference();
    let shard = log_shard(&reference);
    let mut item = to_item(record)?;
    item.extend(Keys::delivery(&reference).into_map());
    item.insert(EXPIRES_AT.into(), epoch_seconds(expires_at));
    if let Destination::Endpoint(id) = record.destination {
        let partition = endpoint_log_partition(record.org_id, id, shard);
        item.insert(DESTINATION_LOG.key.into(), string(partition));
    }
    if record.status == DeliveryStatus::Failed {
        item.insert(
            PROBLEM_LOG.key.into(),
            string(log_partition(record.org_id, shard)),
        );
    }
    Ok(item)
}

/// What a page of the log reads of each record: every field of `DeliveryRecord::listed`.
pub(super) const LISTED_PROJECTION: &str = "#org_id, #event_id, #endpoint_id, #endpoint_label, #url, \
     #event_type, #agent_id, #call_id, #occurred_at, #status, #attempt_count, #http_status, \
     #failure_category, #last_attempt_at, #next_retry_at, #test, #claim";

/// How many items one page may read in each shard, whatever the filter: a page reads at most
/// `LOG_SHARDS` times this (2,000 items, one Query per shard), and a filter that matches
/// nothing answers a short page with a cursor instead of reading the whole log.
pub(crate) const SHARD_READ_BUDGET: i32 = 250;

/// What one shard's read found, and where it stopped if its budget ran out first.
struct ShardRead {
    found: Vec<Found>,
    stopped_at: Option<LogKey>,
}

impl DynamoStore {
    /// Up to `wanted` matching records of one shard, newest first, reading at most
    /// [`SHARD_READ_BUDGET`] items: a narrow filter reads on past the items it drops until the
    /// budget is spent, and then says where it stopped.
    async fn newest_in_shard(
        &self,
        source: LogSource,
        partition: String,
        log_query: &LogQuery,
        wanted: usize,
    ) -> Result<ShardRead> {
        let (filter, after) = (&log_query.filter, log_query.after.as_ref());
        let mut query = self
            .query(source.index().map(|index| index.name))
            .scan_index_forward(false)
            // Indexes are read eventually consistent: a record may show there a moment late.
            .consistent_read(source.index().is_none())
            .expression_attribute_names("#part", source.index().map_or("pk", |index| index.key))
            .expression_attribute_values(":pk", string(partition));
        let mut conditions = Vec::new();
        if source.holds_records() {
            // Records not yet shown (a claim before the first attempt) are in the table only;
            // `log-by-destination` holds neither expiry nor count: the records read afterwards
            // are checked.
            conditions.push(format!("{EXPIRES_AT} > :now AND attempt_count > :zero"));
            query = query
                .expression_attribute_values(":now", epoch_seconds(log_query.now))
                .expression_attribute_values(":zero", number(0));
        }
        if source.holds_records() && !log_query.bodies {
            // A page of the log shows neither bodies nor attempts: they are not read out.
            query = query.projection_expression(LISTED_PROJECTION);
            for (placeholder, name) in projection_names(LISTED_PROJECTION) {
                query = query.expression_attribute_names(placeholder, name);
            }
        }
        // `since` and the cursor bound the sort key; BETWEEN is inclusive, so the `after`
        // record itself is dropped below.
        if let Some(since) = filter.since {
            let since = LogKey::at(since);
            query = query.expression_attribute_values(":since", string(since.as_str()));
        }
        if let Some(after) = after {
            query = query.expression_attribute_values(":after", string(after.as_str()));
        }
        let key_condition = match (filter.since.is_some(), after.is_some()) {
            (true, true) => "#part = :pk AND sk BETWEEN :since AND :after",
            (false, true) => "#part = :pk AND sk < :after",
            (true, false) => "#part = :pk AND sk >= :since",
            (false, false) => "#part = :pk",
        };
        // An endpoint filter chose the source: every item of it is that endpoint's.
        if let Some(agent) = filter.agent_id {
            conditions.push("agent_id = :agent_id".into());
            query = query.expression_attribute_values(":agent_id", number(agent.get()));
        }
        if let Some(event_type) = &filter.event_type {
            conditions.push("event_type = :event_type".into());
            query = query.expression_attribute_values(":event_type", string(event_type));
        }
        if let Some(status) = filter.status {
            conditions.push("#status = :status".into());
            query = query
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", string(status));
        }
        // When the source holds only matches, the first `wanted` items are the answer;
        // otherwise read up to the budget.
        let enough = if source.covers(filter) {
            i32::try_from(wanted).unwrap_or(i32::MAX)
        } else {
            i32::MAX
        };
        let query = query
            .key_condition_expression(key_condition)
            .set_filter_expression((!conditions.is_empty()).then(|| conditions.join(" AND ")));

        let mut found = Vec::new();
        let mut budget = SHARD_READ_BUDGET;
        let mut start_key = None;
        let stopped_at = loop {
            let output = query
                .clone()
                .limit(enough.min(budget).max(1))
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(classify)?;
            budget = budget.saturating_sub(output.scanned_count.max(output.count).max(1));
            for item in output.items.unwrap_or_default() {
                let item = found_in(source, item)?;
                if after.is_none_or(|after| item.log_key() < *after) {
                    found.push(item);
                }
            }
            if found.len() >= wanted {
                found.truncate(wanted);
                break None;
            }
            start_key = output.last_evaluated_key;
            let Some(last) = &start_key else {
                break None;
            };
            if budget <= 0 {
                let position = last
                    .get("sk")
                    .and_then(|sk| sk.as_s().ok())
                    .ok_or_else(|| StoreError::internal("a log page stopped without a sort key"))?;
                break Some(LogKey::from_stored(position.clone()));
            }
        };
        Ok(ShardRead { found, stopped_at })
    }

    /// The page's records whole, in its order: those an index gave as keys read from the table
    /// (consistently, a hundred at a time), and any expired by now left out.
    async fn whole_records(
        &self,
        found: Vec<Found>,
        query: &LogQuery,
    ) -> Result<Vec<DeliveryRecord>> {
        let keys: Vec<Keys> = found
            .iter()
            .filter_map(|found| match found {
                Found::Keys(_, keys) => Some(keys.clone()),
                Found::Record(_) => None,
            })
            .collect();
        // A page without bodies reads what it lists, and the keys and expiry to match it up.
        let projection = format!("pk, sk, {EXPIRES_AT}, {LISTED_PROJECTION}");
        let projection = (!query.bodies).then_some(projection.as_str());
        // No request when the page holds only whole records: there are no keys to read.
        let mut read: HashMap<String, super::Item> = self
            .read_items(keys, projection)
            .await?
            .into_iter()
            .filter_map(|item| Some((item.get("sk")?.as_s().ok()?.clone(), item)))
            .collect();
        let mut records = Vec::with_capacity(found.len());
        for found in found {
            let record = match found {
                Found::Record(record) => record,
                Found::Keys(key, _) => {
                    let Some(item) = read.remove(key.as_str()) else {
                        continue;
                    };
                    if expiry_of(&item).is_some_and(|at| is_expired(at, query.now)) {
                        continue;
                    }
                    let record: DeliveryRecord = from_item(item)?;
                    // The index is read a moment behind the table: the record as it is now
                    // must still match.
                    if !record.is_shown() || !query.filter.matches(&record) {
                        continue;
                    }
                    if query.bodies {
                        record
                    } else {
                        record.listed()
                    }
                }
            };
            records.push(record);
        }
        Ok(records)
    }
}

/// What an item of `source` is: a whole record, or the keys of one.
fn found_in(source: LogSource, item: super::Item) -> Result<Found> {
    if source.holds_records() {
        return from_item(item).map(Found::Record);
    }
    let keys = Keys::of_item(&item)
        .ok_or_else(|| StoreError::internal("an index entry without the table's keys"))?;
    Ok(Found::Keys(LogKey::from_stored(keys.sk().to_owned()), keys))
}
