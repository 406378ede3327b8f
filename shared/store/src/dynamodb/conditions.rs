//! Every condition a write puts to DynamoDB, once, each named after the domain rule it mirrors.
//! The in-memory store applies the rule itself; the conformance test named beside each runs on
//! both stores, so the two cannot drift apart unnoticed.

/// The item is there: a write to something deleted meanwhile writes nothing.
pub(super) const EXISTS: &str = "attribute_exists(pk)";

/// The item is new: a create or a first write never overwrites.
pub(super) const ABSENT: &str = "attribute_not_exists(pk)";

/// The organization holds fewer endpoints than its limit (`enforces_the_per_org_limit`,
/// `enforces_the_limit_under_concurrent_creates`).
pub(super) const UNDER_ENDPOINT_LIMIT: &str =
    "attribute_not_exists(endpoint_count) OR endpoint_count < :limit";

/// `DeliveryRecord::may_claim`: fewer attempts made than the one claimed, and no other live
/// claim on it (`claiming_an_attempt_follows_the_domain`).
pub(super) const MAY_CLAIM: &str = "attribute_not_exists(pk) OR (attempt_count < :n AND \
     (attribute_not_exists(#claim) OR #claim.#attempt < :n OR #claim.#until <= :now))";

/// `DeliveryRecord::supersedes`: more attempts than the stored record, or as many and none
/// earlier (`a_late_duplicate_does_not_overwrite_a_later_attempt`).
pub(super) const SUPERSEDES: &str = "attribute_not_exists(pk) OR attempt_count < :attempts \
     OR (attempt_count = :attempts AND last_attempt_at <= :at)";

/// `DeliveryRecord::end`: not moved past the attempts seen, never un-delivered
/// (`ending_a_record_follows_the_domain`).
pub(super) const ENDS: &str =
    "attribute_exists(pk) AND attempt_count <= :attempts AND #status <> :delivered";

/// `DeliveryRecord::reopen`: the record as read, not retrying unless its next attempt is lost
/// (`reopening_a_record_follows_the_domain`).
pub(super) const REOPENS: &str = "attempt_count > :zero AND attempt_count = :attempts AND \
     (#status <> :retrying OR attribute_not_exists(next_retry_at) OR next_retry_at <= :lost)";

/// `Endpoint::may_rotate_from`: the endpoint still has the secret the rotation read, so of
/// concurrent rotations one wins (`rotating_an_endpoint_secret_follows_the_domain`).
pub(super) const ROTATES_FROM: &str = "secret_hint = :seen";

/// `Endpoint::may_rotate_from`, for an endpoint item that holds its secret (created after
/// secrets moved into endpoint items); one whose secret is in its own item fails it and is
/// rotated there (`rotating_an_endpoint_secret_follows_the_domain`).
pub(super) const ROTATES_KEPT_SECRET_FROM: &str =
    "secret_hint = :seen AND attribute_exists(secret)";

/// `LegacyWebhook::may_rotate_from`: the webhook still has the secret the rotation read
/// (`rotating_the_legacy_secret_follows_the_domain`).
pub(super) const LEGACY_ROTATES_FROM: &str = "secret = :seen";

/// `Endpoint::revive`: only a failing endpoint becomes active again
/// (`revive_follows_the_domain`).
pub(super) const REVIVES: &str = "#status = :failing";

/// `streak_counts`: a streak older than the endpoint's re-activation does not go on
/// (`reactivation_beats_the_sweeper`).
pub(super) const STREAK_COUNTS: &str =
    "attribute_not_exists(failing_since) OR failing_since >= :reset";

/// The sweep's verdict, first half: the streak is still the one the sweeper saw
/// (`marking_failing_follows_the_domain`).
pub(super) const SAME_STREAK: &str = "failing_since = :seen";

/// The sweep's verdict, second half: the endpoint is active and was not re-activated since the
/// streak began (`marking_failing_follows_the_domain`).
pub(super) const MAY_MARK_FAILING: &str = "attribute_exists(pk) AND #status = :active \
     AND (attribute_not_exists(streak_reset_at) OR streak_reset_at <= :seen)";

/// `PerMinute::admits`: what is asked for fits in what the minute has left, `:room` being the
/// limit less what is asked (`quotas_follow_the_domain`).
pub(super) const ADMITS: &str = "attribute_not_exists(used) OR used <= :room";

/// A give-back of `:n` to a quota's minute: the count is there and covers it, so a minute that
/// was forgotten, or never counted, is left alone (`quotas_follow_the_domain`).
pub(super) const COVERS: &str = "used >= :n";

/// `IdempotencyRecord::may_be_taken`: no live record holds the key
/// (`idempotency_keys_follow_the_domain`).
pub(super) const KEY_FREE: &str = "attribute_not_exists(pk) OR valid_until <= :now \
     OR (replay = :in_progress AND #until <= :now)";

/// `PaceStore::set_pace`: the endpoint is there and its pace is still the one the change was
/// made from, so one answer's worth of pace changes it once (`pace_follows_the_domain`).
pub(super) const PACE_UNSET: &str = "attribute_exists(pk) AND attribute_not_exists(#pace)";
pub(super) const PACE_AS_SEEN: &str =
    "attribute_exists(pk) AND #pace.#rate = :seen_rate AND #pace.#since = :seen_since";

/// `PaceStore::take_turn`: the last turn was less than an interval ago, so the next one is an
/// interval after it, and that is no later than the latest turn worth having
/// (`pace_follows_the_domain`).
pub(super) const TURNS_QUEUED: &str =
    "last_turn > :an_interval_ago AND last_turn <= :last_possible";

/// `PaceStore::take_turn`: no turn within the last interval, so this one is now
/// (`pace_follows_the_domain`).
pub(super) const TURN_FREE: &str =
    "attribute_not_exists(last_turn) OR last_turn <= :an_interval_ago";

/// `PaceStore::hold_turns`: only ever later (`pace_follows_the_domain`).
pub(super) const HOLDS_LATER: &str = "attribute_not_exists(last_turn) OR last_turn < :until";
