use clap::Parser;
use dev_server::Options;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    webhook_aws::init_logging();
    dev_server::run(Options::parse()).await
}
