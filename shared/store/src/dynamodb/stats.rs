//! Delivery stats and the failure-streak index on DynamoDB.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use webhook_domain::{
    Attempt, DeliveryStats, Endpoint, EndpointHealth, EndpointId, EndpointStatus, Hour, OrgId,
    Timestamp, may_revive,
};

use super::conditions::{EXISTS, MAY_MARK_FAILING, REVIVES, SAME_STREAK, STREAK_COUNTS};
use super::errors::{cancellation_reasons, classify, conditional, written};
use super::items::{
    ENDPOINT_PROJECTION, GRACE_PROJECTION, StoredGrace, bucket_attribute, bucket_attributes,
    from_item, number, recent_attempts, string, to_value,
};
use super::keys::{Keys, STREAK_SHARDS, STREAKS, StreakPlace, streak_partition, streak_shard};
use super::{DynamoStore, Item, TransactionAction};
use crate::{DeliveryStatsStore, Recorded, Result, StreakCandidate, StreakPage};

/// Which shard of the streak index to read next, and where in it.
#[derive(Debug, Default)]
pub struct StreakCursor {
    shard: u8,
    start: Option<Item>,
}

/// The update expression and values that apply one attempt to a stats item; the same rules as
/// `DeliveryStats::record`. `restart_streak`: the running streak began before the endpoint was
/// re-activated, so this failure starts a new one instead of continuing it.
fn attempt_update(
    endpoint: &Endpoint,
    attempt: &Attempt,
    restart_streak: bool,
    gives_up: bool,
) -> Result<(String, Item)> {
    // `RecentAttempts::record`: count the attempt in its hour's bucket, drop the buckets just
    // past the day (older ones, left by a quiet spell, `drop_stale_buckets` removes).
    let hour = Hour::of(attempt.at);
    let mut sets = vec!["last_attempt_at = :at", "last_duration_ms = :duration"];
    let mut removes: Vec<String> = hour
        .routinely_expired()
        .flat_map(bucket_attributes)
        .collect();
    let succeeded = attempt.outcome.is_success();
    let mut adds = vec![format!("{} :one", bucket_attribute(hour, succeeded))];
    let mut values = HashMap::from([
        (":at".to_owned(), string(attempt.at)),
        (":duration".to_owned(), number(attempt.duration.as_millis())),
        (":one".to_owned(), number(1)),
    ]);
    match attempt.outcome.status() {
        Some(status) => {
            sets.push("last_status = :status");
            values.insert(":status".into(), number(status));
        }
        None => removes.push("last_status".into()),
    }
    if gives_up {
        sets.push("last_given_up_at = :at");
        adds.push("given_up_count :one".into());
    }
    match attempt.outcome.failure() {
        None => {
            sets.push("last_success_at = :at");
            removes.extend(["failing_since", "streak_shard"].map(String::from));
            removes.extend(["marked_failing_at", "parked_at"].map(String::from));
            adds.push("success_count :one".into());
        }
        Some(category) => {
            sets.extend(["last_failure = :failure", "last_failure_at = :at"]);
            if restart_streak {
                sets.extend(["failing_since = :at", "streak_shard = :shard"]);
                removes.extend(["marked_failing_at", "parked_at"].map(String::from));
            } else {
                // A streak already marked keeps its marked shard, out of the sweeper's way.
                sets.extend([
                    "failing_since = if_not_exists(failing_since, :at)",
                    "streak_shard = if_not_exists(streak_shard, :shard)",
                ]);
            }
            adds.push("failure_count :one".into());
            values.insert(":failure".into(), to_value(&category)?);
            let shard = streak_shard(endpoint.id, StreakPlace::Open);
            values.insert(":shard".into(), string(shard));
        }
    }
    let mut expression = format!("SET {} ADD {}", sets.join(", "), adds.join(", "));
    if !removes.is_empty() {
        expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
    }
    Ok((expression, values))
}

/// What became of one attempt's UpdateItem.
enum AttemptWrite {
    /// Applied; the stats as they were before it.
    Applied(Item),
    /// Refused: the running streak began before the endpoint was re-activated.
    StaleStreak,
    /// Refused: there are no stats, the endpoint is gone.
    EndpointGone,
}

impl DynamoStore {
    async fn apply_attempt(
        &self,
        endpoint: &Endpoint,
        attempt: &Attempt,
        restart_streak: bool,
        gives_up: bool,
    ) -> Result<AttemptWrite> {
        let (update, mut values) = attempt_update(endpoint, attempt, restart_streak, gives_up)?;
        let mut condition = EXISTS.to_owned();
        // `streak_counts`, as a condition: a streak older than the endpoint's re-activation must
        // not continue. Refuse, and the caller restarts it.
        if let (Some(reset), false, false) = (
            endpoint.streak_reset_at,
            attempt.outcome.is_success(),
            restart_streak,
        ) {
            condition.push_str(&format!(" AND ({STREAK_COUNTS})"));
            values.insert(":reset".into(), string(reset));
        }
        let result = self
            .update(Keys::stats(endpoint.id))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        Ok(match conditional(result)? {
            Ok(output) => AttemptWrite::Applied(output.attributes.unwrap_or_default()),
            Err(Some(_)) => AttemptWrite::StaleStreak,
            Err(None) => AttemptWrite::EndpointGone,
        })
    }

    /// The rest of `RecentAttempts::record` after a quiet spell of more than a day: the
    /// buckets older than the day that the attempt's own update did not name. `before` is the
    /// item as the attempt found it; this write is needed only when it held such buckets.
    async fn drop_stale_buckets(
        &self,
        endpoint: &Endpoint,
        before: &Item,
        at: Timestamp,
    ) -> Result<()> {
        let stale = recent_attempts(before).stale_at(at);
        if stale.is_empty() {
            return Ok(());
        }
        let attributes: Vec<String> = stale.into_iter().flat_map(bucket_attributes).collect();
        let result = self
            .update(Keys::stats(endpoint.id))
            .update_expression(format!("REMOVE {}", attributes.join(", ")))
            .condition_expression(EXISTS)
            .send()
            .await;
        written(result).map(drop)
    }

    /// Moves a streak no sweep can act on out of the sweeper's way, unless it changed meanwhile.
    async fn park(&self, candidate: &StreakCandidate, now: Timestamp) -> Result<()> {
        let result = self
            .update(Keys::stats(candidate.endpoint_id))
            .update_expression("SET #streak = :parked, parked_at = :now")
            .condition_expression(SAME_STREAK)
            .expression_attribute_names("#streak", STREAKS.key)
            .expression_attribute_values(
                ":parked",
                string(streak_shard(candidate.endpoint_id, StreakPlace::Parked)),
            )
            .expression_attribute_values(":now", string(now))
            .expression_attribute_values(":seen", string(candidate.failing_since))
            .send()
            .await;
        written(result).map(drop)
    }

    /// A success ends the streak; a failing endpoint becomes active again. The condition is
    /// `Endpoint::revive`'s.
    async fn revive(&self, endpoint: &Endpoint, at: Timestamp) -> Result<bool> {
        let result = self
            .update(Keys::endpoint(endpoint.org_id, endpoint.id))
            .update_expression("SET #status = :active, updated_at = :at")
            .condition_expression(REVIVES)
            .expression_attribute_names("#status", "status")
            .set_expression_attribute_values(Some(status_values(at)))
            .send()
            .await;
        written(result)
    }
}

/// What a change of an endpoint item's status at `at` binds: the time, and both statuses the
/// sweep and a revival move between (one the new value, the other the condition's).
fn status_values(at: Timestamp) -> Item {
    let status = |status: EndpointStatus| string(status.as_str());
    HashMap::from([
        (":at".to_owned(), string(at)),
        (":active".to_owned(), status(EndpointStatus::Active)),
        (":failing".to_owned(), status(EndpointStatus::Failing)),
    ])
}

/// When the streak in a stats item (as an attempt found it) began, if it was in one.
fn before_failing_since(before: &Item) -> Option<Timestamp> {
    let since = before.get("failing_since")?.as_s().ok()?;
    Timestamp::parse(since).ok()
}

/// A stats item as the domain sees it, hourly buckets included.
pub(super) fn stats_from_item(item: Item) -> Result<DeliveryStats> {
    let recent = recent_attempts(&item);
    let mut stats: DeliveryStats = from_item(item)?;
    stats.recent = recent;
    Ok(stats)
}

impl DeliveryStatsStore for DynamoStore {
    type Cursor = StreakCursor;

    async fn record_attempt(
        &self,
        endpoint: &Endpoint,
        attempt: &Attempt,
        gives_up: bool,
    ) -> Result<Recorded> {
        let apply = |restart| self.apply_attempt(endpoint, attempt, restart, gives_up);
        let write = match apply(false).await? {
            AttemptWrite::StaleStreak => apply(true).await?,
            write => write,
        };
        let AttemptWrite::Applied(before) = write else {
            return Ok(Recorded::EndpointGone);
        };
        // The attempt is counted: what follows is housekeeping that a later attempt does as
        // well (its read finds the stale buckets; a failing endpoint's next success revives
        // it), so a failure is logged, not the attempt made and counted again.
        if let Err(error) = self.drop_stale_buckets(endpoint, &before, attempt.at).await {
            tracing::warn!(%error, endpoint_id = %endpoint.id, "could not drop stale stats buckets");
        }
        let streak_was_marked = before.contains_key("marked_failing_at");
        let revived = may_revive(attempt.outcome, endpoint.status, streak_was_marked)
            && self
                .revive(endpoint, attempt.at)
                .await
                .unwrap_or_else(|error| {
                    tracing::error!(%error, endpoint_id = %endpoint.id, "could not revive an endpoint after a success: its next success will");
                    false
                });
        Ok(if revived {
            Recorded::Revived {
                failing_since: before_failing_since(&before),
            }
        } else {
            Recorded::Counted
        })
    }

    async fn delivery_stats(&self, org: OrgId, id: EndpointId) -> Result<Option<DeliveryStats>> {
        let stats = self
            .read_item(Keys::stats(id), None)
            .await?
            .map(stats_from_item)
            .transpose()?;
        Ok(stats.filter(|s| s.org_id == org))
    }

    async fn endpoint_health(&self, org: OrgId, id: EndpointId) -> Result<Option<EndpointHealth>> {
        // The grace of a rotated-out secret is in the endpoint item, or for an endpoint created
        // before secrets moved there, in its secret item.
        let endpoint_and_grace = format!("{ENDPOINT_PROJECTION}, {GRACE_PROJECTION}");
        let read = self
            .read_items_together(vec![
                (Keys::endpoint(org, id), Some(&endpoint_and_grace)),
                (Keys::stats(id), None),
                (Keys::secret(org, id), Some(GRACE_PROJECTION)),
            ])
            .await?;
        let [Some(endpoint), stats, grace] = <[_; 3]>::try_from(read).unwrap_or_default() else {
            return Ok(None);
        };
        let stats = match stats {
            Some(item) => stats_from_item(item)?,
            None => DeliveryStats::new(org, id),
        };
        let kept: StoredGrace = from_item(endpoint.clone())?;
        let apart: Option<StoredGrace> = grace.map(from_item).transpose()?;
        Ok(Some(EndpointHealth {
            endpoint: from_item(endpoint)?,
            stats,
            previous_secret_expires_at: kept
                .previous_expires_at
                .or(apart.and_then(|g| g.previous_expires_at)),
        }))
    }

    async fn streak_candidates(
        &self,
        cutoff: Timestamp,
        from: Option<StreakCursor>,
    ) -> Result<StreakPage<StreakCursor>> {
        let cursor = from.unwrap_or_default();
        let output = self
            .query(Some(STREAKS.name))
            .key_condition_expression("#streak = :shard AND failing_since <= :cutoff")
            .expression_attribute_names("#streak", STREAKS.key)
            .expression_attribute_values(":shard", string(streak_partition(cursor.shard)))
            .expression_attribute_values(":cutoff", string(cutoff))
            .limit(self.streak_page_size)
            .set_exclusive_start_key(cursor.start)
            .send()
            .await
            .map_err(classify)?;
        let candidates = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<StreakCandidate>>>()?;
        // The rest of this shard, else the next shard from its start.
        let (shard, start) = match output.last_evaluated_key {
            Some(start) => (cursor.shard, Some(start)),
            None => (cursor.shard + 1, None),
        };
        let next = (shard < STREAK_SHARDS).then_some(StreakCursor { shard, start });
        Ok(StreakPage { candidates, next })
    }

    async fn mark_failing(&self, candidate: &StreakCandidate, now: Timestamp) -> Result<bool> {
        // `sweep_verdict`, as two conditions that hold at one instant or nothing is written: the
        // streak is the one the sweeper saw, and the endpoint is active and was not re-activated
        // since it began. The marked streak moves to its MARKED partition: later sweeps skip it.
        let same_streak = self
            .update_in_transaction(Keys::stats(candidate.endpoint_id))
            .update_expression("SET #streak = :marked, marked_failing_at = :now")
            .condition_expression(SAME_STREAK)
            .expression_attribute_names("#streak", STREAKS.key)
            .expression_attribute_values(":seen", string(candidate.failing_since))
            .expression_attribute_values(
                ":marked",
                string(streak_shard(candidate.endpoint_id, StreakPlace::Marked)),
            )
            .expression_attribute_values(":now", string(now))
            .action()?;
        let mark = self
            .update_in_transaction(Keys::endpoint(candidate.org_id, candidate.endpoint_id))
            .update_expression("SET #status = :failing, updated_at = :at")
            .condition_expression(MAY_MARK_FAILING)
            .expression_attribute_names("#status", "status")
            .set_expression_attribute_values(Some(status_values(now)))
            .expression_attribute_values(":seen", string(candidate.failing_since))
            .action()?;
        match self.write_together(vec![same_streak, mark]).await {
            Ok(_) => Ok(true),
            Err(error) => match cancellation_reasons(&error).as_deref() {
                // Same streak, but the endpoint is paused, re-activated since, or failing:
                // `SweepVerdict::SetAside`.
                Some([_, "ConditionalCheckFailed"]) => {
                    self.park(candidate, now).await?;
                    Ok(false)
                }
                // The streak changed since it was read: `SweepVerdict::Skip`.
                Some(reasons) if reasons.contains(&"ConditionalCheckFailed") => Ok(false),
                _ => Err(classify(error)),
            },
        }
    }
}
