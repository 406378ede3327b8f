//! Every key format of the table and its indexes, in one place: the layout `mod.rs` documents.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use webhook_domain::{DeliveryRef, Destination, EndpointId, EventId, KeyId, OrgId, QuotaCount};

use super::Item;

pub(super) const ENDPOINT_SK_PREFIX: &str = "ENDPOINT#";
pub(super) const API_KEY_SK_PREFIX: &str = "APIKEY#";
/// Sorts right after every `ENDPOINT#` key, so one Query range holds both; no other item of
/// the organization's partition may sort between them.
pub(super) const LEGACY_SK: &str = "LEGACY";

/// A global secondary index: its name, the attribute it is partitioned by and the one it sorts
/// by, and what it holds beyond the keys. `table::create_if_missing` makes every one of
/// `INDEXES`; `template.yaml` declares the same.
#[derive(Debug, Clone, Copy)]
pub(super) struct Index {
    pub(super) name: &'static str,
    pub(super) key: &'static str,
    pub(super) sort: Option<&'static str>,
    pub(super) holds: Holds,
}

/// What an index holds beyond its keys and the table's.
#[derive(Debug, Clone, Copy)]
pub(super) enum Holds {
    Everything,
    KeysOnly,
    These(&'static [&'static str]),
}

/// The sparse index of endpoints in a failure streak: only stats items in a streak carry
/// `streak_shard`, so the index holds exactly the streaks, oldest first per shard.
pub(super) const STREAKS: Index = Index {
    name: "failure-streaks",
    key: "streak_shard",
    sort: Some("failing_since"),
    holds: Holds::These(&["org_id", "endpoint_id"]),
};
/// Streak starts and ends are spread over this many index partitions.
pub(super) const STREAK_SHARDS: u8 = 4;

/// An index of each endpoint's delivery records (sharded like the log), so filtering by
/// endpoint reads only that endpoint's records. Legacy records are not in it. It holds only
/// what a filter tests, which an attempt seldom changes: a retry's claim and outcome write no
/// entry. A page reads the records themselves from the table.
pub(super) const DESTINATION_LOG: Index = Index {
    name: "log-by-destination",
    key: "destination_log",
    sort: Some("sk"),
    holds: Holds::These(&["status", "agent_id", "event_type"]),
};

/// A sparse index of the `failed` delivery records, so filtering by `failed` reads only those,
/// however many deliveries succeeded around them. It holds the whole record; a record enters
/// it once, when its delivery gives up (written before `log-by-destination`, also while
/// `retrying`).
pub(super) const PROBLEM_LOG: Index = Index {
    name: "log-problems",
    key: "problem_log",
    sort: Some("sk"),
    holds: Holds::Everything,
};

/// Indexes that records written before `log-by-destination` and the logged event are in, and
/// new ones are not: read until TTL has ended those records (`docs/storage.md`, migration).
/// `log-by-endpoint` held every endpoint record whole (so each claim and outcome rewrote its
/// entry); `log-by-event` found a record's keys from its event and destination (keys only: the
/// table gives the record).
pub(super) const ENDPOINT_LOG: Index = Index {
    name: "log-by-endpoint",
    key: "endpoint_log",
    sort: Some("sk"),
    holds: Holds::Everything,
};
pub(super) const EVENT_LOG: Index = Index {
    name: "log-by-event",
    key: "event_log",
    sort: None,
    holds: Holds::KeysOnly,
};

pub(super) const INDEXES: [Index; 5] = [
    STREAKS,
    ENDPOINT_LOG,
    PROBLEM_LOG,
    EVENT_LOG,
    DESTINATION_LOG,
];

/// An endpoint item's subscription as a set (see `items::events_key`), for PATCH conditions.
pub(super) const EVENTS_KEY: &str = "events_key";

/// The attribute DynamoDB's TTL reads: epoch seconds after which the item may be removed.
pub(super) const EXPIRES_AT: &str = "expires_at";

/// How many partitions one organization's delivery log is spread over, so a busy
/// organization's writes do not all land on one. Readers query every shard; changing this
/// strands older records.
pub(super) const LOG_SHARDS: u8 = 8;

#[derive(Debug, Clone)]
pub(super) struct Keys {
    pk: String,
    sk: String,
}

impl Keys {
    pub(super) fn new(pk: String, sk: impl Into<String>) -> Self {
        Self { pk, sk: sk.into() }
    }

    /// An item in the organization's own partition.
    fn in_org(org: OrgId, sk: impl Into<String>) -> Self {
        Self::new(Self::org_pk(org), sk)
    }

    pub(super) fn org_pk(org: OrgId) -> String {
        format!("ORG#{org}")
    }

    pub(super) fn org(org: OrgId) -> Self {
        Self::in_org(org, "ORG")
    }

    pub(super) fn endpoint(org: OrgId, id: EndpointId) -> Self {
        Self::in_org(org, format!("{ENDPOINT_SK_PREFIX}{id}"))
    }

    pub(super) fn legacy(org: OrgId) -> Self {
        Self::in_org(org, LEGACY_SK)
    }

    /// An idempotency record. `REQUEST#` sorts after `LEGACY`, outside the endpoints' range.
    pub(super) fn request(org: OrgId, key: &str) -> Self {
        Self::in_org(org, format!("REQUEST#{key}"))
    }

    /// An API key's record where the authorizer reads it: by key id alone.
    pub(super) fn api_key(id: &KeyId) -> Self {
        Self::new(format!("{API_KEY_SK_PREFIX}{id}"), "APIKEY")
    }

    /// The same record in its organization's partition, for listing. `APIKEY#` sorts before
    /// `ENDPOINT#`, outside the endpoints' range.
    pub(super) fn org_api_key(org: OrgId, id: &KeyId) -> Self {
        Self::in_org(org, format!("{API_KEY_SK_PREFIX}{id}"))
    }

    /// One minute's count of one of an organization's quotas. `QUOTA#` sorts after `LEGACY`,
    /// outside the endpoints' range.
    pub(super) fn quota(count: QuotaCount) -> Self {
        let QuotaCount { org, quota, minute } = count;
        Self::in_org(org, format!("QUOTA#{}#{}", quota.as_str(), minute.number()))
    }

    /// The endpoint's last turn to be sent a delivery. `PACE#` sorts after `LEGACY`, outside
    /// the endpoints' range.
    pub(super) fn pace(org: OrgId, id: EndpointId) -> Self {
        Self::in_org(org, format!("PACE#{id}"))
    }

    /// The organization's external id, in a partition of its own: the function that issues it
    /// may write there and can reach no item that holds a secret.
    pub(super) fn external_id(org: OrgId) -> Self {
        Self::new(format!("AWSID#{org}"), "AWSID")
    }

    pub(super) fn secret(org: OrgId, id: EndpointId) -> Self {
        Self::in_org(org, format!("SECRET#{id}"))
    }

    /// Delivery stats live in the endpoint's own partition, not the organization's, so a busy
    /// organization's delivery traffic spreads over many partitions.
    pub(super) fn stats(id: EndpointId) -> Self {
        Self::new(format!("{ENDPOINT_SK_PREFIX}{id}"), "STATS")
    }

    /// What the log keeps of an event once: in a partition of its own, under `LOG#` with the
    /// records it belongs to (and the grants that reach them).
    pub(super) fn logged_event(org: OrgId, event_id: EventId) -> Self {
        Self::new(format!("LOG#{org}#EVENT#{event_id}"), "EVENT")
    }

    pub(super) fn delivery(record: &DeliveryRef) -> Self {
        Self::new(
            log_partition(record.org_id, log_shard(record)),
            record.log_key().as_str(),
        )
    }

    pub(super) fn sk(&self) -> &str {
        &self.sk
    }

    /// The table keys an index item (or any item) carries.
    pub(super) fn of_item(item: &Item) -> Option<Self> {
        let text = |name: &str| item.get(name)?.as_s().ok().cloned();
        Some(Self::new(text("pk")?, text("sk")?))
    }

    pub(super) fn into_map(self) -> Item {
        HashMap::from([
            ("pk".to_owned(), AttributeValue::S(self.pk)),
            ("sk".to_owned(), AttributeValue::S(self.sk)),
        ])
    }
}

/// One shard of an organization's delivery log (the table's `pk`, and the problem index's).
pub(super) fn log_partition(org: OrgId, shard: u8) -> String {
    format!("LOG#{org}#{shard}")
}

/// One event's record at one destination in the `log-by-event` index.
pub(super) fn event_log_key(org: OrgId, event_id: EventId, destination: Destination) -> String {
    format!("LOG#{org}#{event_id}#{destination}")
}

/// One shard of an endpoint's records in the `log-by-destination` index (and the older
/// `log-by-endpoint`).
pub(super) fn endpoint_log_partition(org: OrgId, id: EndpointId, shard: u8) -> String {
    format!("LOG#{org}#{id}#{shard}")
}

/// The shard of one event's record at one destination: the random bits of the ids spread the
/// records of one event, and of one endpoint, over all shards.
pub(super) fn log_shard(record: &DeliveryRef) -> u8 {
    let endpoint = record
        .destination
        .endpoint()
        .map_or(0, |id| id.as_uuid().as_u128());
    shard_of(record.event_id.as_uuid().as_u128() ^ endpoint, LOG_SHARDS)
}

fn shard_of(bits: u128, shards: u8) -> u8 {
    // The remainder is below `shards`, so it fits.
    (bits % u128::from(shards)) as u8
}

/// Where the sweeper looks for streaks: `STREAK#<shard>`.
pub(super) fn streak_partition(shard: u8) -> String {
    format!("STREAK#{shard}")
}

/// The three places a streak's stats sit in the streak index.
#[derive(Debug, Clone, Copy)]
pub(super) enum StreakPlace {
    /// Awaiting a sweep.
    Open,
    /// It made its endpoint failing: outside every sweep's Query.
    Marked,
    /// Set aside: its endpoint was paused or re-activated after it began.
    Parked,
}

pub(super) fn streak_shard(id: EndpointId, place: StreakPlace) -> String {
    let shard = shard_of(id.as_uuid().as_u128(), STREAK_SHARDS);
    match place {
        StreakPlace::Open => streak_partition(shard),
        StreakPlace::Marked => format!("MARKED#{shard}"),
        StreakPlace::Parked => format!("PARKED#{shard}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webhook_domain::Timestamp;

    #[test]
    fn log_shards_spread_and_stay_in_range() {
        let mut seen = [0u32; LOG_SHARDS as usize];
        for _ in 0..800 {
            let record = DeliveryRef {
                org_id: OrgId::new(1),
                event_id: webhook_domain::EventId::generate(),
                destination: EndpointId::generate().into(),
                occurred_at: Timestamp::from_unix_millis(0).unwrap(),
            };
            seen[usize::from(log_shard(&record))] += 1;
        }
        assert!(seen.iter().all(|&n| n > 40), "{seen:?}");
    }
}
