//! `GET /portal` and `GET /portal/{asset}`: the portal's embedded files. Public: no table, no
//! key; the page reaches the API with its session token.

use lambda_http::{Body, Error, Request, RequestExt, Response, run, service_fn};
use webhook_api::routes::ASSET;
use webhook_portal::FrameAncestors;

#[tokio::main]
async fn main() -> Result<(), Error> {
    webhook_aws::init_logging();
    let frame_ancestors = FrameAncestors::from_env()?;
    run(service_fn(|request: Request| {
        let asset = request
            .path_parameters_ref()
            .and_then(|params| params.first(ASSET))
            .map(str::to_owned);
        let response = webhook_portal::serve(asset.as_deref(), &frame_ancestors);
        async move { Ok::<Response<Body>, Error>(response) }
    }))
    .await
}
