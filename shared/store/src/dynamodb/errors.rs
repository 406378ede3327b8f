//! Sorting SDK failures into what the API can say about them.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::CancellationReason;

use super::Item;
use crate::{Result, StoreError};

/// Throttling, capacity and transport trouble are `Unavailable`; everything else is a bug or a
/// misconfiguration and is `Internal`.
pub(super) fn classify<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let transient = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some(
                "ThrottlingException"
                    | "ProvisionedThroughputExceededException"
                    | "RequestLimitExceeded"
                    | "InternalServerError"
                    | "ServiceUnavailable"
                    | "TransactionConflictException"
                    // Reached only when no condition failed: the transaction met a concurrent
                    // one, or throttling. A condition failure is sorted out before this.
                    | "TransactionCanceledException"
            )
        ),
        _ => false,
    };
    let message = webhook_aws::describe(&error);
    if transient {
        StoreError::Unavailable(message.into())
    } else {
        StoreError::Internal(message.into())
    }
}

/// Why a transaction was cancelled, one reason per action in order; `None` if it was not.
fn cancellation<R>(error: &SdkError<TransactWriteItemsError, R>) -> Option<&[CancellationReason]> {
    match error.as_service_error()? {
        TransactWriteItemsError::TransactionCanceledException(cancelled) => {
            Some(cancelled.cancellation_reasons())
        }
        _ => None,
    }
}

/// The cancellation reason codes of a cancelled transaction, one per action in order.
pub(super) fn cancellation_reasons<R>(
    error: &SdkError<TransactWriteItemsError, R>,
) -> Option<Vec<&str>> {
    let reasons = cancellation(error)?.iter();
    Some(
        reasons
            .map(|reason| reason.code().unwrap_or("None"))
            .collect(),
    )
}

/// The item at `index` of a cancelled transaction as it stood when its condition failed (its
/// action must have asked for the item on failure); `None` if there was none.
pub(super) fn item_when_refused<R>(
    error: &SdkError<TransactWriteItemsError, R>,
    index: usize,
) -> Option<Item> {
    let item = cancellation(error)?.get(index)?.item();
    item.cloned().filter(|item| !item.is_empty())
}

/// The conditional writes whose refusal can hand back the item.
pub(super) trait ConditionalWriteError:
    ProvideErrorMetadata + std::error::Error + Send + Sync + 'static
{
    /// `Some` when the condition failed, holding the item if one was asked for.
    fn condition_failed(&self) -> Option<Option<Item>>;
}

impl ConditionalWriteError for UpdateItemError {
    fn condition_failed(&self) -> Option<Option<Item>> {
        match self {
            Self::ConditionalCheckFailedException(failed) => Some(failed.item().cloned()),
            _ => None,
        }
    }
}

impl ConditionalWriteError for PutItemError {
    fn condition_failed(&self) -> Option<Option<Item>> {
        match self {
            Self::ConditionalCheckFailedException(failed) => Some(failed.item().cloned()),
            _ => None,
        }
    }
}

/// A conditional write's result, `Err` when its condition failed: the item as it stood then
/// (`None`: there was none; asking for `ReturnValuesOnConditionCheckFailure::AllOld` fills it
/// in). Every other failure is sorted as usual.
pub(super) fn conditional<T, E, R>(
    result: Result<T, SdkError<E, R>>,
) -> Result<Result<T, Option<Item>>>
where
    E: ConditionalWriteError,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(output) => Ok(Ok(output)),
        Err(error) => match error.as_service_error().and_then(E::condition_failed) {
            Some(item) => Ok(Err(item)),
            None => Err(classify(error)),
        },
    }
}

/// Whether a conditional write was written (`false`: its condition failed); every other failure
/// sorted as usual.
pub(super) fn written<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool>
where
    E: ConditionalWriteError,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    Ok(conditional(result)?.is_ok())
}
