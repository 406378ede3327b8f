//! `GET /portal` and `GET /portal/{asset}`: the portal's embedded files. Public: no table, no
//! key; the page reaches the API with its session token.

use lambda_http::{Error, Request, RequestExt, run, service_fn};
use webhook_api::routes::ASSET;
use webhook_portal::FrameAncestors;

#[tokio::main]
async fn main() -> Result<(), Error> {
    webhook_aws::init_logging();
    let frame_ancestors = FrameAncestors::from_env()?;
    run(service_fn(|request: Request| {
        let asset = request
            .path_parameters_ref()
            .and_then(|params| params.first(ASSET));
        std::future::ready(Ok::<_, Error>(webhook_portal::serve(
            asset,
            &frame_ancestors,
        )))
    }))
    .await
}
