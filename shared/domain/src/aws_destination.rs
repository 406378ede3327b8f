//! Endpoints on AWS: an SQS queue or an EventBridge bus in the customer's account, reached
//! through a role the customer made for it. The platform stores no credentials: it assumes the
//! role with an external id it issued to the organization, so one organization naming another's
//! role gets nothing (the role trusts only that organization's id: the confused deputy).

use std::fmt;

use serde::Serialize;

use crate::EndpointUrl;

/// What an ARN url names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsService {
    /// `arn:<partition>:sqs:<region>:<account>:<queue>`: one `SendMessage` per attempt.
    SqsQueue,
    /// `arn:<partition>:events:<region>:<account>:event-bus/<bus>`: one `PutEvents` entry.
    EventBus,
}

/// An endpoint's url when it is an ARN, in its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsDestination<'a> {
    pub service: AwsService,
    pub arn: &'a str,
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    /// The queue's or the bus's name.
    pub name: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsArnError {
    #[error(
        "An ARN url must name an SQS queue (arn:aws:sqs:<region>:<account>:<queue>) or an EventBridge bus (arn:aws:events:<region>:<account>:event-bus/<bus>)."
    )]
    Unsupported,
    #[error("The ARN's partition must be aws, aws-cn or aws-us-gov.")]
    Partition,
    #[error("The ARN must name a region of its partition, such as us-east-1 in aws.")]
    Region,
    #[error("The ARN's account must be 12 digits.")]
    Account,
    #[error("An SQS queue's name is 1 to 80 letters, digits, hyphens and underscores (and .fifo).")]
    QueueName,
    #[error("An event bus's name is 1 to 256 letters, digits, dots, hyphens and underscores.")]
    BusName,
}

const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

impl<'a> AwsDestination<'a> {
    /// Whether the url is meant as an ARN: it then parses as one or is refused as one.
    pub fn is_arn(raw: &str) -> bool {
        raw.starts_with("arn:")
    }

    pub fn parse(arn: &'a str) -> Result<Self, AwsArnError> {
        let ["arn", partition, service, region, account, rest] =
            *arn.splitn(6, ':').collect::<Vec<_>>()
        else {
            return Err(AwsArnError::Unsupported);
        };
        let (service, name) = match (service, rest.strip_prefix("event-bus/")) {
            ("sqs", _) => (AwsService::SqsQueue, rest),
            ("events", Some(name)) => (AwsService::EventBus, name),
            _ => return Err(AwsArnError::Unsupported),
        };
        if !PARTITIONS.contains(&partition) {
            return Err(AwsArnError::Partition);
        }
        if !is_region(region) || partition_of(region) != partition {
            return Err(AwsArnError::Region);
        }
        if !is_account(account) {
            return Err(AwsArnError::Account);
        }
        match service {
            AwsService::SqsQueue if !is_queue_name(name) => Err(AwsArnError::QueueName),
            AwsService::EventBus if !is_bus_name(name) => Err(AwsArnError::BusName),
            _ => Ok(Self {
                service,
                arn,
                partition,
                region,
                account,
                name,
            }),
        }
    }

    /// The queue's URL, which SQS's API takes in place of its ARN.
    pub fn queue_url(&self) -> String {
        let domain = match self.partition {
            "aws-cn" => "amazonaws.com.cn",
            _ => "amazonaws.com",
        };
        format!(
            "https://sqs.{}.{domain}/{}/{}",
            self.region, self.account, self.name
        )
    }

    /// A FIFO queue, which needs a group and a deduplication id with each message.
    pub fn is_fifo(&self) -> bool {
        self.service == AwsService::SqsQueue && self.name.ends_with(".fifo")
    }
}

fn is_region(region: &str) -> bool {
    (4..=32).contains(&region.len())
        && region.contains('-')
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The partition a region belongs to: China's and GovCloud's regions have their own.
fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

fn is_account(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

fn is_queue_name(name: &str) -> bool {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    (1..=80).contains(&name.len())
        && !base.is_empty()
        && base
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_bus_name(name: &str) -> bool {
    (1..=256).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// The IAM role an AWS endpoint is reached through: `arn:<partition>:iam::<account>:role/<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RoleArn(String);

crate::stored::read_back_unchecked!(RoleArn);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error(
        "Expected an IAM role ARN: arn:aws:iam::<12-digit account>:role/<name>, at most 2048 characters."
    )]
    Invalid,
    #[error(
        "An SQS queue or EventBridge bus is reached through a role you create in its account: give role_arn."
    )]
    Missing,
    #[error("role_arn is only for an SQS queue or EventBridge bus url.")]
    NotUsed,
    #[error("role_arn goes with the url it is for: send both.")]
    WithoutUrl,
    #[error("The role must be in the same partition as the queue or bus.")]
    OtherPartition,
}

impl RoleArn {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(raw: &str) -> Result<Self, RoleError> {
        let raw = raw.trim();
        let (partition, rest) = raw
            .strip_prefix("arn:")
            .and_then(|rest| rest.split_once(":iam::"))
            .ok_or(RoleError::Invalid)?;
        let (account, path_and_name) = rest.split_once(":role/").ok_or(RoleError::Invalid)?;
        let fine = raw.len() <= Self::MAX_LEN
            && PARTITIONS.contains(&partition)
            && is_account(account)
            && !path_and_name.is_empty()
            && !path_and_name.starts_with('/')
            && !path_and_name.ends_with('/')
            && !path_and_name.contains("//")
            && path_and_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b));
        fine.then(|| Self(raw.to_owned())).ok_or(RoleError::Invalid)
    }

    fn partition(&self) -> &str {
        self.0.split(':').nth(1).unwrap_or_default()
    }

    /// The role an endpoint at `url` keeps: one for an ARN url, none for an https one, the
    /// role in the same partition as what it reaches. The rule that they go together.
    pub fn for_url(url: &EndpointUrl, role: Option<Self>) -> Result<Option<Self>, RoleError> {
        match (url.aws(), role) {
            (Some(aws), Some(role)) if role.partition() == aws.partition => Ok(Some(role)),
            (Some(_), Some(_)) => Err(RoleError::OtherPartition),
            (Some(_), None) => Err(RoleError::Missing),
            (None, Some(_)) => Err(RoleError::NotUsed),
            (None, None) => Ok(None),
        }
    }
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the platform names itself with when it assumes an organization's roles: issued once per
/// organization, at random, and never chosen by a caller. A customer's role trusts the platform
/// only with this id (`sts:ExternalId`), so no other organization can have the platform act
/// through it. Not a secret: AWS asks only that no two customers share one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ExternalId(String);

crate::stored::read_back_unchecked!(ExternalId);

impl ExternalId {
    pub fn generate() -> Self {
        Self(format!("whx_{}", uuid::Uuid::new_v4().simple()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_a_queue_or_a_bus_in_its_parts() {
        let queue = AwsDestination::parse("arn:aws:sqs:eu-west-1:123456789012:hooks.fifo").unwrap();
        assert_eq!(queue.service, AwsService::SqsQueue);
        assert_eq!(
            (queue.region, queue.account, queue.name),
            ("eu-west-1", "123456789012", "hooks.fifo")
        );
        assert!(queue.is_fifo());
        assert_eq!(
            queue.queue_url(),
            "https://sqs.eu-west-1.amazonaws.com/123456789012/hooks.fifo"
        );
        let bus =
            AwsDestination::parse("arn:aws-cn:events:cn-north-1:123456789012:event-bus/orders")
                .unwrap();
        assert_eq!((bus.service, bus.name), (AwsService::EventBus, "orders"));
        assert!(!bus.is_fifo());
    }

    #[test]
    fn refuses_what_it_cannot_deliver_to() {
        let err = |raw| AwsDestination::parse(raw).unwrap_err();
        assert_eq!(
            err("arn:aws:sns:us-east-1:123456789012:topic"),
            AwsArnError::Unsupported
        );
        assert_eq!(
            err("arn:aws:events:us-east-1:123456789012:rule/r"),
            AwsArnError::Unsupported
        );
        assert_eq!(
            err("arn:aws:sqs:us-east-1:123456789012"),
            AwsArnError::Unsupported
        );
        assert_eq!(
            err("arn:azure:sqs:us-east-1:123456789012:q"),
            AwsArnError::Partition
        );
        assert_eq!(err("arn:aws:sqs::123456789012:q"), AwsArnError::Region);
        assert_eq!(
            err("arn:aws:sqs:cn-north-1:123456789012:q"),
            AwsArnError::Region
        );
        assert_eq!(
            err("arn:aws-us-gov:sqs:us-east-1:123456789012:q"),
            AwsArnError::Region
        );
        assert_eq!(err("arn:aws:sqs:us-east-1:12345:q"), AwsArnError::Account);
        assert_eq!(
            err("arn:aws:sqs:us-east-1:123456789012:a/b"),
            AwsArnError::QueueName
        );
        assert_eq!(
            err("arn:aws:sqs:us-east-1:123456789012:.fifo"),
            AwsArnError::QueueName
        );
        assert_eq!(
            err("arn:aws:events:us-east-1:123456789012:event-bus/"),
            AwsArnError::BusName
        );
    }

    #[test]
    fn a_role_is_an_iam_role_arn() {
        let ok = |raw| RoleArn::parse(raw).unwrap();
        assert_eq!(
            ok(" arn:aws:iam::123456789012:role/webhooks ").as_str(),
            "arn:aws:iam::123456789012:role/webhooks"
        );
        ok("arn:aws-us-gov:iam::123456789012:role/team/hooks+sender@x=1,y.z");
        for bad in [
            "arn:aws:iam::123456789012:user/someone",
            "arn:aws:iam::12345678901:role/r",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/a//b",
            "arn:aws:iam::123456789012:role/r*",
            "arn:aws:sts::123456789012:role/r",
            "arn:other:iam::123456789012:role/r",
        ] {
            assert_eq!(RoleArn::parse(bad), Err(RoleError::Invalid), "{bad}");
        }
    }

    #[test]
    fn an_arn_url_goes_with_a_role_and_an_https_url_without_one() {
        let url = |raw| EndpointUrl::parse_endpoint(raw).unwrap();
        let role = |raw| Some(RoleArn::parse(raw).unwrap());
        let queue = url("arn:aws:sqs:us-east-1:123456789012:q");
        let https = url("https://example.com/h");
        let aws_role = role("arn:aws:iam::123456789012:role/r");
        assert_eq!(
            RoleArn::for_url(&queue, aws_role.clone()),
            Ok(aws_role.clone())
        );
        assert_eq!(RoleArn::for_url(&queue, None), Err(RoleError::Missing));
        assert_eq!(RoleArn::for_url(&https, aws_role), Err(RoleError::NotUsed));
        assert_eq!(RoleArn::for_url(&https, None), Ok(None));
        assert_eq!(
            RoleArn::for_url(&queue, role("arn:aws-cn:iam::123456789012:role/r")),
            Err(RoleError::OtherPartition)
        );
    }

    #[test]
    fn external_ids_differ() {
        let (a, b) = (ExternalId::generate(), ExternalId::generate());
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("whx_") && a.as_str().len() == 36);
    }
}
