//! Checks that need two parts of a credential found together (an account and its token, a shop
//! and its token, a site and e-mail and token, a user and token): the request each sends, with
//! both parts where the provider documents them, and the verdicts, against loopback stand-ins.

mod common;

use base64::Engine as _;
use common::{
    http::{Request, Response, Server},
    scan_json, Run, Tree,
};
use serde_json::{json, Value};

/// Scans a tree holding `text` with verification sent to `server` as `endpoint`.
fn verify(text: &str, endpoint: &str, server: &Server) -> (Run, Value) {
    let tree = Tree::new();
    tree.write("config.env", text);
    let endpoint = format!("{endpoint}={}", server.url());
    let run = scan_json(tree.path(), &["--verify", "--verify-endpoint", &endpoint]);
    let json: Value = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    let finding = json["findings"]
        .as_array()
        .and_then(|all| all.iter().find(|f| f["verification"].is_object()).cloned())
        .unwrap_or_else(|| panic!("no verified finding: {}\n{}", run.stdout, run.stderr));
    (run, finding)
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// A server that answers `live` when `accepts` the request, else `dead`.
fn stand_in(
    accepts: impl Fn(&Request) -> bool + Send + Sync + 'static,
    live: Response,
    dead: Response,
) -> Server {
    Server::start(move |request, _| {
        if accepts(request) {
            live.clone()
        } else {
            dead.clone()
        }
    })
}

const TWILIO_SID: &str = "AC255b0edbe47f5a59579a99b09537d643";
const TWILIO_TOKEN: &str = "ac1dcfa0ae60221029e915a67035924b";

#[test]
fn twilio_account_sid_and_auth_token() {
    let expected = basic(TWILIO_SID, TWILIO_TOKEN);
    let server = stand_in(
        move |r| {
            r.method == "GET"
                && r.path == format!("/2010-04-01/Accounts/{TWILIO_SID}.json")
                && r.headers.get("authorization") == Some(&expected)
        },
        Response::json(
            200,
            json!({ "friendly_name": "Acme SMS", "status": "active" }),
        ),
        Response::json(401, json!({ "code": 20003, "message": "Authenticate" })),
    );
    let live = format!("TWILIO_ACCOUNT_SID={TWILIO_SID}\nTWILIO_AUTH_TOKEN={TWILIO_TOKEN}\n");
    let (run, finding) = verify(&live, "twilio", &server);
    assert_eq!(finding["verification"]["status"], "live", "{finding:#}");
    assert_eq!(finding["verification"]["identity"], "Acme SMS, active");
    assert!(!run.stdout.contains(TWILIO_TOKEN));
    let dead = format!(
        "TWILIO_ACCOUNT_SID={TWILIO_SID}\nTWILIO_AUTH_TOKEN=7f62881e2cdfb5a3ac42e0e824d4d25e\n"
    );
    let (_, finding) = verify(&dead, "twilio", &server);
    assert_eq!(finding["verification"]["status"], "invalid");
    assert_eq!(server.requests().len(), 2);
}

const SHOPIFY_TOKEN: &str = "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";

#[test]
fn shopify_token_with_its_shop() {
    let server = stand_in(
        |r| {
            r.method == "GET"
                && r.path == "/admin/api/2025-01/shop.json"
                && r.headers.get("x-shopify-access-token").map(String::as_str)
                    == Some(SHOPIFY_TOKEN)
        },
        Response::json(
            200,
            json!({ "shop": { "name": "Acme Outlet", "myshopify_domain": "acme-outlet.myshopify.com" } }),
        ),
        Response::json(
            401,
            json!({ "errors": "[API] Invalid API key or access token" }),
        ),
    );
    let live = format!(
        "SHOPIFY_STORE_DOMAIN=acme-outlet.myshopify.com\nSHOPIFY_ADMIN_ACCESS_TOKEN={SHOPIFY_TOKEN}\n"
    );
    let (_, finding) = verify(&live, "shopify", &server);
    assert_eq!(finding["verification"]["status"], "live", "{finding:#}");
    assert_eq!(
        finding["verification"]["identity"],
        "Acme Outlet, acme-outlet.myshopify.com"
    );
    // The token first and the shop after it is the same pair.
    let reversed = "const c = createAdminApiClient({ accessToken: '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', storeDomain: 'blue-kettle.myshopify.com' });\n";
    let (_, finding) = verify(reversed, "shopify", &server);
    assert_eq!(finding["verification"]["status"], "invalid", "{finding:#}");
    assert_eq!(server.requests().len(), 2);
}

const ATLASSIAN_TOKEN: &str = "ATATT3xFfGF0EEg7vQWO6a1RLS7JUdZ6SK7GEjC2gzEvi0EzBftawiHodKESKGystjw4CEx80p6wTO8Y-3pXEuZyyKZAspd96L9DXxE5I0MVuCBWQzDfouxWSGnntN6LfU7ovebhilIwIjvei83eRsfA8y1MyCiMej7VC_7Qt3nRrvpGEbCWjVei-RumQihs=9A1C3F02";

#[test]
fn atlassian_token_with_site_and_email() {
    let expected = basic("release-bot@acme.example", ATLASSIAN_TOKEN);
    let server = stand_in(
        move |r| {
            r.method == "GET"
                && r.path == "/rest/api/3/myself"
                && r.headers.get("accept").map(String::as_str) == Some("application/json")
                && r.headers.get("authorization") == Some(&expected)
        },
        Response::json(
            200,
            json!({ "accountId": "5b10a2844c20165700ede21g", "displayName": "Release Bot" }),
        ),
        Response::new(401, "Unauthorized"),
    );
    let live = format!(
        "JIRA_BASE_URL=https://acme-eng.atlassian.net\nJIRA_USER_EMAIL=release-bot@acme.example\nJIRA_API_TOKEN={ATLASSIAN_TOKEN}\n"
    );
    let (_, finding) = verify(&live, "atlassian", &server);
    assert_eq!(finding["verification"]["status"], "live", "{finding:#}");
    assert_eq!(
        finding["verification"]["identity"],
        "Release Bot, 5b10a2844c20165700ede21g"
    );
    let other_user = live.replace("release-bot@", "someone@");
    let (_, finding) = verify(&other_user, "atlassian", &server);
    assert_eq!(finding["verification"]["status"], "invalid");
    assert_eq!(server.requests().len(), 2);
}

const DOCKER_TOKEN: &str = "dckr_pat_LRxshMBf0bKvDOllEOdGx_DYrYU";

#[test]
fn docker_hub_user_and_personal_access_token() {
    let server = stand_in(
        |r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap_or_default();
            r.method == "POST"
                && r.path == "/v2/auth/token"
                && r.headers.get("content-type").map(String::as_str) == Some("application/json")
                && body == json!({ "identifier": "jdoe", "secret": DOCKER_TOKEN })
        },
        Response::json(200, json!({ "access_token": "eyJ.test-only" })),
        Response::json(
            401,
            json!({ "detail": "Incorrect authentication credentials" }),
        ),
    );
    let live = format!("echo {DOCKER_TOKEN} | docker login -u jdoe --password-stdin\n");
    let (_, finding) = verify(&live, "docker-hub", &server);
    assert_eq!(finding["verification"]["status"], "live", "{finding:#}");
    let other = format!("DOCKERHUB_USERNAME=acmebuild\nDOCKERHUB_TOKEN={DOCKER_TOKEN}\n");
    let (_, finding) = verify(&other, "docker-hub", &server);
    assert_eq!(finding["verification"]["status"], "invalid");
    assert_eq!(server.requests().len(), 2);
}

/// Alone, a token has nothing to be checked with: no request, and the finding is reported as
/// always (no verdict).
#[test]
fn a_token_without_its_other_part_is_not_sent() {
    let server = Server::start(|_, _| Response::json(200, json!({})));
    let tree = Tree::new();
    tree.write(
        "a.env",
        format!("SHOPIFY_ADMIN_ACCESS_TOKEN={SHOPIFY_TOKEN}\n"),
    );
    let endpoint = format!("shopify={}", server.url());
    let run = scan_json(tree.path(), &["--verify", "--verify-endpoint", &endpoint]);
    let json = run.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["signature_id"], "shopify.access-token");
    assert!(findings[0]["verification"].is_null(), "{:#}", findings[0]);
    assert_eq!(server.requests().len(), 0);
}
