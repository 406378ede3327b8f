//! The bundled authorizer through dev-server, which runs its code on every request: keys made
//! by `webhooks-admin` open the API for their organization and role until revoked.

use clap::Parser;
use system_tests::{COLLECTION, dynamodb_endpoint};
use webhook_api::{App, Settings};
use webhook_store::DynamoStore;
use webhook_store::dynamodb::local_client;
use webhooks_admin::Options;

/// Runs `webhooks-admin ARGS` against moto's table `table`; answers (stdout, stderr).
async fn admin(table: &str, args: &[&str]) -> Result<(String, String), String> {
    let endpoint = dynamodb_endpoint();
    let mut argv = vec![
        "webhooks-admin",
        "--dynamodb-endpoint",
        &endpoint,
        "--table",
        table,
    ];
    argv.extend_from_slice(args);
    let options = Options::try_parse_from(argv).map_err(|e| e.to_string())?;
    let (mut out, mut notes) = (Vec::new(), Vec::new());
    webhooks_admin::run(options, &mut out, &mut notes)
        .await
        .map_err(|e| e.to_string())?;
    Ok((
        String::from_utf8(out).unwrap(),
        String::from_utf8(notes).unwrap(),
    ))
}

async fn status(base: &str, key: Option<&str>) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new().get(format!("{base}{COLLECTION}"));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn keys_from_webhooks_admin_open_the_api_until_revoked() {
    let table = format!("admin-{}", uuid::Uuid::new_v4());
    let (key, note) = admin(
        &table,
        &[
            "keys", "create", "--org", "7", "--role", "admin", "--label", "CI",
        ],
    )
    .await
    .unwrap();
    let key = key.trim().to_owned();
    assert!(key.starts_with("sk_live_") && key.len() >= 8 + 43, "{key}");
    assert!(note.contains("only time"), "{note}");
    let (member, _) = admin(
        &table,
        &["keys", "create", "--org", "7", "--role", "member"],
    )
    .await
    .unwrap();

    // A server that seeds nothing: it knows only what the tool wrote.
    let store = DynamoStore::new(local_client(&dynamodb_endpoint()), table.clone());
    let app = App::new(store, Settings::default());
    let server = dev_server::Server::new(app, dev_server::ApiKeys::new(Vec::new()));
    let base = format!("http://{}", dev_server::spawn(server).await.unwrap());

    assert_eq!(status(&base, Some(&key)).await.0, 200);
    assert_eq!(status(&base, Some(member.trim())).await.0, 403);
    for unknown in [Some("sk_live_unknown"), Some(&key[..key.len() - 1]), None] {
        let (code, body) = status(&base, unknown).await;
        assert_eq!(code, 401, "{unknown:?}");
        assert!(body["detail"].is_string(), "the product's 401: {body}");
    }

    let (listing, _) = admin(&table, &["keys", "list", "--org", "7"])
        .await
        .unwrap();
    assert!(!listing.contains(&key), "a listing never shows a key");
    let line = listing
        .lines()
        .find(|l| l.contains("\tadmin\t"))
        .unwrap()
        .to_owned();
    let id = line.split('\t').next().unwrap().to_owned();
    assert!(
        line.contains("\tCI\t") && line.contains(&key[..12]),
        "{line}"
    );
    assert_eq!(
        listing.lines().count(),
        3,
        "a header and two keys: {listing}"
    );

    let (_, revoked) = admin(&table, &["keys", "revoke", &id]).await.unwrap();
    assert!(revoked.contains("revoked"), "{revoked}");
    assert_eq!(status(&base, Some(&key)).await.0, 401, "revoked");
    let (listing, _) = admin(&table, &["keys", "list", "--org", "7"])
        .await
        .unwrap();
    assert!(
        !listing
            .lines()
            .find(|l| l.starts_with(&id))
            .unwrap()
            .ends_with("\t-")
    );

    assert!(
        admin(&table, &["keys", "revoke", "00000000000000000000"])
            .await
            .unwrap_err()
            .contains("no key")
    );
    assert!(
        admin(
            &table,
            &["keys", "create", "--org", "seven", "--role", "admin"]
        )
        .await
        .is_err()
    );
    assert!(
        admin(&table, &["keys", "create", "--org", "7", "--role", "root"])
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_authorizer_answers_with_the_keys_context_or_an_empty_one() {
    use webhook_api::authorizer::{AuthorizerRequest, authorize};
    use webhook_domain::{ApiKeyRecord, ApiKeySecret, Clock, OrgId, Role, SystemClock};
    use webhook_store::{ApiKeyStore, MemoryStore};

    let store = MemoryStore::new();
    let key = ApiKeySecret::generate().unwrap();
    let record = ApiKeyRecord::new(&key, OrgId::new(9), Role::Owner, None, SystemClock.now());
    store.put_api_key(&record).await.unwrap();
    let answer = |header: Option<String>| {
        let store = store.clone();
        answer_at(store, header, SystemClock.now())
    };
    async fn answer_at(
        store: MemoryStore,
        header: Option<String>,
        now: webhook_domain::Timestamp,
    ) -> serde_json::Value {
        {
            let request: AuthorizerRequest = serde_json::from_value(serde_json::json!({
                "headers": header.map_or(serde_json::json!({}), |h| serde_json::json!({"authorization": h}))
            }))
            .unwrap();
            serde_json::to_value(authorize(&store, request, now).await.unwrap()).unwrap()
        }
    }
    assert_eq!(
        answer(Some(format!("Bearer {}", key.expose()))).await,
        serde_json::json!({"isAuthorized": true, "context": {
            "org_id": 9, "role": "owner", "key_id": record.id.as_str()
        }})
    );
    let empty = serde_json::json!({"isAuthorized": true, "context": {}});

    // The sample event API Gateway sends, with a key dev-server's tests seed.
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/authorize.json"
    ))
    .unwrap();
    let seeded = ApiKeySecret::presented("sk_test_admin").unwrap();
    let admin = ApiKeyRecord::new(&seeded, OrgId::new(7), Role::Admin, None, SystemClock.now());
    store.put_api_key(&admin).await.unwrap();
    let sampled = authorize(
        &store,
        serde_json::from_str(&sample).unwrap(),
        SystemClock.now(),
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::to_value(sampled).unwrap(),
        serde_json::json!({"isAuthorized": true, "context": {
            "org_id": 7, "role": "admin", "key_id": admin.id.as_str()
        }})
    );
    assert_eq!(answer(Some("Bearer sk_live_nobody".into())).await, empty);
    assert_eq!(answer(None).await, empty);
    store
        .revoke_api_key(&record.id, SystemClock.now())
        .await
        .unwrap();
    assert_eq!(
        answer(Some(format!("Bearer {}", key.expose()))).await,
        empty
    );

    // A portal session: its creator's org and role, and its end, until that end.
    let token = ApiKeySecret::generate_session().unwrap();
    let opened = SystemClock.now();
    let end = opened
        .checked_add(std::time::Duration::from_secs(300))
        .unwrap();
    let by = webhook_domain::Caller {
        org: OrgId::new(9),
        role: Role::Admin,
        session: false,
    };
    store
        .put_api_key(&ApiKeyRecord::session(&token, by, end, opened))
        .await
        .unwrap();
    let bearer = Some(format!("Bearer {}", token.expose()));
    assert_eq!(
        answer_at(store.clone(), bearer.clone(), opened).await,
        serde_json::json!({"isAuthorized": true, "context": {
            "org_id": 9, "role": "admin", "session_until": end.unix_millis(),
            "key_id": token.digest().id().as_str()
        }})
    );
    assert_eq!(answer_at(store.clone(), bearer, end).await, empty);
}

/// Portal sessions: a link from `webhooks-admin portal-link` or from the API opens the API for
/// its organization as admin until it ends, cannot open another, and carries its token only in
/// the fragment of a URL on the origin the request came to.
#[tokio::test]
async fn portal_links_open_the_api_until_they_end_and_open_no_other() {
    use std::sync::Arc;
    use webhook_domain::{Clock, ManualClock, SystemClock};

    let table = format!("portal-{}", uuid::Uuid::new_v4());
    let (key, _) = admin(&table, &["keys", "create", "--org", "7", "--role", "admin"])
        .await
        .unwrap();
    // From now on the real clock too: the tool's link is made at the real time.
    let clock = Arc::new(ManualClock::starting_at(SystemClock.now()));
    let store = DynamoStore::new(local_client(&dynamodb_endpoint()), table.clone());
    let app = App::new(store, Settings::default()).with_clock(clock.clone());
    let server = dev_server::Server::new(app, dev_server::ApiKeys::new(Vec::new()));
    let address = dev_server::spawn(server).await.unwrap();
    let base = format!("http://{address}");
    let open = |bearer: String, body: serde_json::Value| {
        let url = format!("{base}/v1/developer/portal-sessions");
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(bearer)
                .json(&body)
                .send()
                .await
                .unwrap();
            let code = response.status().as_u16();
            (code, response.json::<serde_json::Value>().await.unwrap())
        }
    };

    let (code, link) = open(
        key.trim().to_owned(),
        serde_json::json!({"expires_in": "10m"}),
    )
    .await;
    assert_eq!(code, 201, "{link}");
    let url = link["url"].as_str().unwrap();
    let token = url
        .strip_prefix(&format!("{base}/portal#token="))
        .unwrap_or_else(|| panic!("on the request's origin, token in the fragment: {url}"));
    assert!(token.starts_with("ps_") && token.len() >= 3 + 32, "{token}");
    let ten_minutes = std::time::Duration::from_secs(600);
    let end = clock.now().checked_add(ten_minutes).unwrap();
    assert_eq!(link["expires_at"], end.to_string());
    assert_eq!(status(&base, Some(token)).await.0, 200);
    let (code, refused) = open(token.to_owned(), serde_json::json!({})).await;
    assert_eq!(code, 403, "a session opens no other: {refused}");

    for bad in ["4m", "25h", "soon"] {
        let (code, body) = open(
            key.trim().to_owned(),
            serde_json::json!({"expires_in": bad}),
        )
        .await;
        assert_eq!(code, 400, "{bad}");
        assert!(body["errors"]["expires_in"].is_array(), "{body}");
    }

    let (tool_link, note) = admin(
        &table,
        &[
            "portal-link",
            "--org",
            "7",
            "--expires-in",
            "5m",
            "--api-url",
            "https://api.example.com/",
        ],
    )
    .await
    .unwrap();
    assert!(note.contains("only time"), "{note}");
    let tool_token = tool_link
        .trim()
        .strip_prefix("https://api.example.com/portal#token=")
        .unwrap();
    assert_eq!(status(&base, Some(tool_token)).await.0, 200);
    assert!(
        admin(
            &table,
            &[
                "portal-link",
                "--org",
                "0",
                "--api-url",
                "https://a.example"
            ]
        )
        .await
        .is_err(),
        "org ids are positive"
    );

    clock.advance(ten_minutes);
    let (code, body) = status(&base, Some(token)).await;
    assert_eq!(code, 401, "ended: {body}");

    let page = reqwest::get(format!("{base}/portal")).await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("default-src 'self'") && policy.contains("frame-ancestors 'none'"));
    assert!(page.text().await.unwrap().contains("portal.js"));
}

#[tokio::test]
async fn webhooks_admin_upgrade_reports_what_it_moved() {
    let table = format!("admin-{}", uuid::Uuid::new_v4());
    let (out, notes) = admin(&table, &["upgrade"]).await.unwrap();
    assert_eq!(out, "");
    assert!(
        notes.starts_with("0 endpoint secrets moved into their endpoint items; 0 changed"),
        "{notes}"
    );
}
