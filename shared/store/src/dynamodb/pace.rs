//! An endpoint's pace lives in its endpoint item, which delivery reads anyway; its turns in an
//! item of their own (`ORG#<org>` / `PACE#<endpoint>`: `last_turn` in Unix milliseconds),
//! written only by paced deliveries and forgotten through TTL an hour after the last turn.

use std::time::Duration;

use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use webhook_domain::{Endpoint, EndpointId, OrgId, Pace, Timestamp};

use super::DynamoStore;
use super::conditions::{HOLDS_LATER, PACE_AS_SEEN, PACE_UNSET, TURN_FREE, TURNS_QUEUED};
use super::errors::{conditional, written};
use super::items::{epoch_seconds, number, to_value};
use super::keys::{EXPIRES_AT, Keys};
use crate::{PaceStore, Result, StoreError, TurnAsked};

/// Each refusal of one way to take a turn follows another taker's success, so this many end
/// it but under a crowd of takers at once.
const TRIES: usize = 16;

/// How long the turns item outlives its last turn.
const TURNS_KEPT: Duration = Duration::from_secs(3600);

impl PaceStore for DynamoStore {
    async fn set_pace(&self, from: &Endpoint, pace: Option<Pace>) -> Result<bool> {
        let mut update = self
            .update(Keys::endpoint(from.org_id, from.id))
            .expression_attribute_names("#pace", "pace");
        update = match pace {
            Some(pace) => update
                .update_expression("SET #pace = :pace")
                .expression_attribute_values(":pace", to_value(&pace)?),
            None => update.update_expression("REMOVE #pace"),
        };
        update = match from.pace {
            Some(seen) => update
                .condition_expression(PACE_AS_SEEN)
                .expression_attribute_names("#rate", "rate")
                .expression_attribute_names("#since", "since")
                .expression_attribute_values(":seen_rate", number(seen.rate))
                .expression_attribute_values(":seen_since", to_value(&seen.since)?),
            None => update.condition_expression(PACE_UNSET),
        };
        written(update.send().await)
    }

    async fn take_turn(
        &self,
        org: OrgId,
        id: EndpointId,
        asked: TurnAsked,
    ) -> Result<Option<Timestamp>> {
        let step = i64::try_from(asked.interval.as_millis()).unwrap_or(i64::MAX);
        let an_interval_ago = asked.now.unix_millis().saturating_sub(step);
        let last_possible = asked.latest.unix_millis().saturating_sub(step);
        // Kept while any turn it hands out may still be waited for.
        let kept_until = asked.latest.max(asked.now).checked_add(TURNS_KEPT);
        let expires = epoch_seconds(kept_until.unwrap_or(Timestamp::LAST));
        let turns = self
            .update(Keys::pace(org, id))
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":an_interval_ago", number(an_interval_ago))
            .expression_attribute_values(":expires", expires);
        // Each way is conditioned on its case, so the wrong guess costs one refused write.
        let mut after_the_last = asked.queued;
        for _ in 0..TRIES {
            if after_the_last {
                let taken = turns
                    .clone()
                    .update_expression("SET last_turn = last_turn + :step, #expires = :expires")
                    .condition_expression(TURNS_QUEUED)
                    .expression_attribute_values(":step", number(step))
                    .expression_attribute_values(":last_possible", number(last_possible))
                    .return_values(ReturnValue::UpdatedNew)
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .send()
                    .await;
                match conditional(taken)? {
                    Ok(output) => return turn_of(output.attributes.as_ref()).map(Some),
                    Err(item) => {
                        let last = turn_of(item.as_ref()).ok();
                        if last.is_some_and(|last| {
                            last.unix_millis() > an_interval_ago
                                && last.unix_millis() > last_possible
                        }) {
                            // Queued past the latest turn worth having.
                            return Ok(None);
                        }
                    }
                }
            } else {
                let free = turns
                    .clone()
                    .update_expression("SET last_turn = :now, #expires = :expires")
                    .condition_expression(TURN_FREE)
                    .expression_attribute_values(":now", number(asked.now.unix_millis()))
                    .send()
                    .await;
                if written(free)? {
                    return Ok(Some(asked.now));
                }
            }
            after_the_last = !after_the_last;
        }
        Err(StoreError::Unavailable(
            "too many deliveries took the endpoint's turns at once".into(),
        ))
    }

    async fn hold_turns(&self, org: OrgId, id: EndpointId, until: Timestamp) -> Result<()> {
        let expires = epoch_seconds(until.checked_add(TURNS_KEPT).unwrap_or(until));
        let result = self
            .update(Keys::pace(org, id))
            .update_expression("SET last_turn = :until, #expires = :expires")
            .condition_expression(HOLDS_LATER)
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":until", number(until.unix_millis()))
            .expression_attribute_values(":expires", expires)
            .send()
            .await;
        // Refused: a later turn is taken already.
        written(result).map(drop)
    }
}

/// The turn an update answered with (`UPDATED_NEW`).
fn turn_of(item: Option<&super::Item>) -> Result<Timestamp> {
    item.and_then(|item| item.get("last_turn")?.as_n().ok()?.parse().ok())
        .and_then(Timestamp::from_unix_millis)
        .ok_or_else(|| StoreError::internal("a turn that is not a time"))
}
