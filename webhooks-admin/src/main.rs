use std::process::ExitCode;

use clap::Parser;
use webhooks_admin::Options;

#[tokio::main]
async fn main() -> ExitCode {
    let options = Options::parse();
    match webhooks_admin::run(options, &mut std::io::stdout(), &mut std::io::stderr()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("webhooks-admin: {error}");
            ExitCode::FAILURE
        }
    }
}
