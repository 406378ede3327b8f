//! Webhook delivery: what a receiver gets (payload and signatures), when it gets it again
//! (the retry schedule), and how it is sent (without following redirects or reaching private
//! addresses).

pub mod attempt;
pub mod aws_sender;
pub mod dispatch;
pub mod event;
pub mod fair;
pub mod jobs;
pub mod lambda;
pub mod local;
pub mod metrics;
pub mod payload;
pub mod pipeline;
pub mod queue;
pub mod resend;
pub mod samples;
pub mod schedule;
pub mod sender;
pub mod sent;
pub mod signature;
pub mod sqs;
pub mod test_delivery;
#[cfg(feature = "testing")]
pub mod testing;
pub mod trace;
