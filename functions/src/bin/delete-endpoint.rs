//! `DELETE /v1/developer/webhook-endpoints/{endpoint_id}`

use lambda_http::{Error, run, service_fn};
use webhook_api::{App, handlers};

#[tokio::main]
async fn main() -> Result<(), Error> {
    webhook_aws::init_logging();
    let app = App::from_env().await?;
    run(service_fn(|request| {
        handlers::delete_endpoint(&app, request)
    }))
    .await
}
