use clap::Parser;
use dev_server::Options;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    dev_server::run(Options::parse()).await
}
