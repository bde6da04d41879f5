//! `--verify` against loopback servers standing in for the providers (base URLs overridden with
//! `--verify-endpoint`): verdicts, the requests' shape, one request per distinct secret,
//! throttling, failures, redirects, timeouts, and every built-in check exercised once.

mod common;

use std::{collections::HashMap, sync::Arc, time::Duration};

use common::{
    http::{Response, Server},
    keysift, scan_json, Run, Tree, GITHUB_TOKEN, GITHUB_TOKEN_2,
};
use keysift::{
    findings::Finding,
    rules::{Confidence, RuleSet},
    scan::Scanner,
    sources::Origin,
    verify::{Verdict, Verifier, VerifyOptions},
};
use serde_json::{json, Value};

/// A stand-in for api.github.com: [`GITHUB_TOKEN`] is live, anything else invalid.
fn github() -> Server {
    Server::start(|request, _| {
        if request.headers.get("authorization") == Some(&format!("Bearer {GITHUB_TOKEN}")) {
            Response::json(200, json!({ "login": "octo-test", "id": 1 }))
        } else {
            Response::json(401, json!({ "message": "Bad credentials" }))
        }
    })
}

fn run_in(tree: &Tree, args: &[&str]) -> (Run, Value) {
    let run = scan_json(tree.path(), args);
    let json = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    (run, json)
}

fn verdicts(json: &Value) -> Vec<(String, String)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["verification"]["status"]
                    .as_str()
                    .unwrap_or("none")
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn live_and_invalid_tokens_with_one_request_per_distinct_secret() {
    let server = github();
    let tree = Tree::new();
    // 1,000 files holding the same live token, and one holding another (invalid) token.
    for i in 0..1000 {
        tree.write(
            &format!("live/{i}.env"),
            format!("GITHUB_TOKEN={GITHUB_TOKEN}\n"),
        );
    }
    tree.write("dead.env", format!("GITHUB_TOKEN={GITHUB_TOKEN_2}\n"));
    let endpoint = format!("github={}", server.url());
    let (run, json) = run_in(&tree, &["--verify", "--verify-endpoint", &endpoint]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found = verdicts(&json);
    assert_eq!(found.len(), 1001);
    assert_eq!(found.iter().filter(|(_, v)| v == "live").count(), 1000);
    assert!(found
        .iter()
        .any(|(p, v)| p.ends_with("dead.env") && v == "invalid"));
    let live = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["verification"]["status"] == "live")
        .unwrap();
    assert_eq!(live["verification"]["identity"], "octo-test");

    let requests = server.requests();
    assert_eq!(requests.len(), 2, "one request per distinct secret");
    for request in &requests {
        assert_eq!(request.method, "GET");
        assert_eq!(request.path, "/user");
        assert_eq!(request.headers["accept"], "application/vnd.github+json");
        assert!(request.headers["user-agent"].starts_with("keysift/"));
    }
    assert!(!run.stderr.contains(GITHUB_TOKEN));

    // --only-verified keeps the live ones; --fail-on live exits 1 only when one is live.
    let (_, json) = run_in(&tree, &["--only-verified", "--verify-endpoint", &endpoint]);
    assert_eq!(verdicts(&json).len(), 1000);
    let dead_only = Tree::new();
    dead_only.write("dead.env", format!("GITHUB_TOKEN={GITHUB_TOKEN_2}\n"));
    let (run, json) = run_in(
        &dead_only,
        &["--fail-on", "live", "--verify-endpoint", &endpoint],
    );
    assert_eq!(run.code, 0, "an invalid token does not fail the build");
    assert_eq!(
        verdicts(&json),
        [(verdicts(&json)[0].0.clone(), "invalid".to_string())]
    );
}

#[test]
fn human_output_shows_the_verdict_and_no_flag_means_no_request() {
    let server = github();
    let tree = Tree::new();
    tree.write("a.env", format!("GITHUB_TOKEN={GITHUB_TOKEN}\n"));
    let endpoint = format!("github={}", server.url());
    let output = keysift()
        .arg("dir")
        .arg(tree.path())
        .args([
            "--verify",
            "--verify-endpoint",
            &endpoint,
            "--color",
            "never",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("verified: live (octo-test)"), "{stdout}");
    assert_eq!(server.requests().len(), 1);

    // Without --verify nothing is sent, even with an endpoint configured.
    let (run, _) = run_in(&tree, &["--verify-endpoint", &endpoint]);
    assert_eq!(run.code, 1);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn throttling_is_retried_failures_redirects_and_timeouts_are_unknown() {
    let tree = Tree::new();
    tree.write("a.env", format!("GITHUB_TOKEN={GITHUB_TOKEN}\n"));
    let verdict_with = |server: &Server, extra: &[&str]| {
        let endpoint = format!("github={}", server.url());
        let mut args = vec!["--verify", "--verify-endpoint", &endpoint];
        args.extend_from_slice(extra);
        let (run, json) = run_in(&tree, &args);
        assert!(!run.stderr.contains(GITHUB_TOKEN) && !run.stdout.contains(GITHUB_TOKEN));
        json["findings"][0]["verification"].clone()
    };

    // 429 with Retry-After, then live.
    let throttled = Server::start(|_, i| match i {
        0 => Response::json(429, json!({})).header("Retry-After", "1"),
        _ => Response::json(200, json!({ "login": "octo-test" })),
    });
    assert_eq!(verdict_with(&throttled, &[])["status"], "live");
    assert_eq!(throttled.requests().len(), 2);

    // Always failing: a few attempts, then unknown with the reason.
    let failing = Server::start(|_, _| Response::json(503, json!({})));
    let verification = verdict_with(&failing, &[]);
    assert_eq!(verification["status"], "unknown");
    assert!(verification["reason"].as_str().unwrap().contains("503"));
    assert_eq!(failing.requests().len(), 3);

    // A redirect elsewhere is reported, not followed (the secret would go with it).
    let redirecting = Server::start(|_, _| {
        Response::new(302, "").header("Location", "http://198.51.100.7/steal?x=1")
    });
    let verification = verdict_with(&redirecting, &[]);
    assert_eq!(verification["status"], "unknown");
    assert!(verification["reason"]
        .as_str()
        .unwrap()
        .contains("redirect"));
    assert_eq!(redirecting.requests().len(), 1);

    // Too slow: unknown after the timeout.
    let slow = Server::start(|_, _| {
        let mut r = Response::json(200, json!({ "login": "late" }));
        r.delay = Duration::from_secs(3);
        r
    });
    let verification = verdict_with(&slow, &["--verify-timeout", "1"]);
    assert_eq!(verification["status"], "unknown", "{verification}");
}

#[test]
fn endpoints_must_exist_and_be_safe() {
    let tree = Tree::new();
    tree.write("a.env", format!("GITHUB_TOKEN={GITHUB_TOKEN}\n"));
    let (run, _) = run_in(
        &tree,
        &[
            "--verify",
            "--verify-endpoint",
            "github=http://api.example.com",
        ],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("HTTPS"), "{}", run.stderr);
    let (run, _) = run_in(
        &tree,
        &[
            "--verify",
            "--verify-endpoint",
            "no-such-provider=https://x.example",
        ],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no check uses"), "{}", run.stderr);
}

/// Every built-in check, once: its signature's first example is found, the request goes to the
/// loopback server with the check's method, path and headers, and an answer meeting the live
/// conditions is judged live (one meeting the invalid ones, invalid).
#[test]
fn every_built_in_check_sends_its_request_and_reads_its_answer() {
    let rules = Arc::new(RuleSet::builtin().unwrap());
    let scanner = Scanner::builder(rules.clone())
        .confidence_floor(Confidence::Low)
        .build()
        .unwrap();
    let answer: Arc<std::sync::Mutex<Response>> =
        Arc::new(std::sync::Mutex::new(Response::new(500, "")));
    let current = answer.clone();
    let server = Server::start(move |_, _| current.lock().unwrap().clone());
    let endpoints: HashMap<String, String> = rules
        .signatures()
        .iter()
        .filter_map(|s| Some((s.verify()?.endpoint.clone(), server.url())))
        .collect();
    let verifier = Verifier::new(
        &rules,
        VerifyOptions {
            endpoints,
            per_host_interval: Duration::ZERO,
            ..VerifyOptions::default()
        },
    )
    .unwrap();

    let mut checked = 0;
    for signature in rules.signatures() {
        let Some(check) = signature.verify() else {
            continue;
        };
        let example = &signature.examples()[0];
        let mut findings: Vec<Finding> = scanner
            .scan_bytes(example.text.as_bytes())
            .into_iter()
            .filter(|f| {
                f.signature_id() == signature.id()
                    || f.also_matched.iter().any(|id| id == signature.id())
            })
            .map(|f| Finding::new(Arc::new(f), Arc::new(Origin::Stdin)))
            .collect();
        assert!(
            !findings.is_empty(),
            "{}: example not found",
            signature.id()
        );
        let secret = findings[0].found.secret.clone();

        for (conditions, expected) in [
            (&check.live, Verdict::Live),
            (&check.invalid, Verdict::Invalid),
        ] {
            let mut body = json!({});
            for (pointer, value) in &conditions.json {
                set(&mut body, pointer, value.clone());
            }
            if expected == Verdict::Live {
                for pointer in &check.identity {
                    if body.pointer(pointer).is_none() {
                        set(&mut body, pointer, json!("someone"));
                    }
                }
            }
            *answer.lock().unwrap() = Response::json(conditions.status[0], body);
            let before = server.requests().len();
            for f in &mut findings {
                f.verification = None;
            }
            verifier.verify(&mut findings);
            let verification = findings[0].verification.clone().unwrap();
            assert_eq!(
                verification.status,
                expected,
                "{}: {verification:?}",
                signature.id()
            );
            let requests = server.requests();
            assert_eq!(requests.len(), before + 1, "{}", signature.id());
            let request = &requests[before];
            let method = format!("{:?}", check.method).to_uppercase();
            assert_eq!(request.method, method, "{}", signature.id());
            let query_free = check.path.split('?').next().unwrap();
            if !query_free.contains('{') {
                assert!(
                    request.path.starts_with(query_free),
                    "{}: {}",
                    signature.id(),
                    request.path
                );
            } else {
                let fixed = query_free.split('{').next().unwrap();
                assert!(
                    request.path.starts_with(fixed) && !request.path.contains('{'),
                    "{}: {}",
                    signature.id(),
                    request.path
                );
            }
            for (name, value) in &check.headers {
                let sent = &request.headers[&name.to_ascii_lowercase()];
                assert_eq!(
                    sent,
                    &value.replace("{secret}", &secret),
                    "{}",
                    signature.id()
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 60, "{checked} checks");
}

/// Sets `value` at JSON pointer `pointer` in `target`, creating objects (and arrays for numeric
/// parts) on the way.
fn set(target: &mut Value, pointer: &str, value: Value) {
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let mut node = target;
    for (i, part) in parts.iter().enumerate() {
        let last = i == parts.len() - 1;
        if let Ok(index) = part.parse::<usize>() {
            if !node.is_array() {
                *node = json!([]);
            }
            let array = node.as_array_mut().unwrap();
            while array.len() <= index {
                array.push(json!({}));
            }
            if last {
                array[index] = value;
                return;
            }
            node = &mut array[index];
        } else {
            if !node.is_object() {
                *node = json!({});
            }
            let object = node.as_object_mut().unwrap();
            if last {
                object.insert(part.to_string(), value);
                return;
            }
            node = object.entry(part.to_string()).or_insert(json!({}));
        }
    }
}

/// A few checks spelled out by hand from the providers' documentation, so a wrong template in
/// the data cannot pass by agreeing with itself.
#[test]
fn documented_request_shapes() {
    let rules = RuleSet::builtin().unwrap();
    let check = |id: &str| rules.find(id).unwrap().1.verify().unwrap().clone();
    let github = check("github.pat.classic");
    assert_eq!(
        (github.base.as_str(), github.path.as_str()),
        ("https://api.github.com", "/user")
    );
    assert_eq!(github.headers["Authorization"], "Bearer {secret}");
    let slack = check("slack.bot-token");
    assert_eq!(format!("{:?}", slack.method), "Post");
    assert_eq!(slack.path, "/api/auth.test");
    let stripe = check("stripe.secret-key.live");
    assert_eq!(stripe.basic_auth.as_ref().unwrap().user, "{secret}");
    let telegram = check("telegram.bot-token");
    assert_eq!(telegram.path, "/bot{secret}/getMe");
    let gitlab = check("gitlab.pat");
    assert_eq!(gitlab.headers["PRIVATE-TOKEN"], "{secret}");
}

/// A stand-in for STS: the request must be a SigV4-signed `GetCallerIdentity` for the key id
/// it knows; it answers with the ARN, or with the error STS gives for an unknown key.
fn sts() -> Server {
    Server::start(|request, _| {
        let authorization = request
            .headers
            .get("authorization")
            .cloned()
            .unwrap_or_default();
        let shape_ok = request.method == "POST"
            && request.path == "/"
            && request.body == b"Action=GetCallerIdentity&Version=2011-06-15"
            && authorization.starts_with("AWS4-HMAC-SHA256 Credential=")
            && authorization.contains("/us-east-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=")
            && request.headers.contains_key("x-amz-date");
        if !shape_ok {
            return Response::new(400, "malformed");
        }
        if authorization.contains("Credential=AKIA6FPXIXLBKGB9EGZC/") {
            Response::new(
                200,
                "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci-test</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>",
            )
        } else {
            Response::new(
                403,
                "<ErrorResponse><Error><Code>InvalidClientTokenId</Code></Error></ErrorResponse>",
            )
        }
    })
}

#[test]
fn an_aws_key_pair_is_verified_together_and_reported_as_one_finding() {
    let server = sts();
    let tree = Tree::new();
    tree.write(
        "credentials",
        "[default]\naws_access_key_id = AKIA6FPXIXLBKGB9EGZC\naws_secret_access_key = wImE/DswK/uKpvrN4WVP8ebz6n2dVcExSonFMFMq\n",
    );
    // A secret key with no key id anywhere near: it cannot be checked alone.
    tree.write(
        "lonely.env",
        "AWS_SECRET_ACCESS_KEY=bWFCpUFbAQLVx6Znf2aXFvrPiuAkyqJXBXeLpDf6\n",
    );
    let (_, unverified) = run_in(&tree, &[]);
    let endpoint = format!("aws-sts={}", server.url());
    let (run, json) = run_in(&tree, &["--verify", "--verify-endpoint", &endpoint]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let before = unverified["findings"].as_array().unwrap().len();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), before - 1, "the key id folds into its pair");
    let pair = findings
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("credentials"))
        .unwrap();
    assert_eq!(pair["signature_id"], "aws.secret-access-key");
    assert_eq!(pair["verification"]["status"], "live");
    assert_eq!(
        pair["verification"]["identity"],
        "arn:aws:iam::123456789012:user/ci-test"
    );
    assert_eq!(
        pair["paired_with"]["signature_id"],
        "aws.access-key-id.long-term"
    );
    assert_eq!(pair["paired_with"]["line"], 2);
    let lonely = findings
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("lonely.env"))
        .unwrap();
    assert_eq!(lonely["verification"]["status"], "unknown");
    assert!(lonely["verification"]["reason"]
        .as_str()
        .unwrap()
        .contains("other part"));
    assert_eq!(server.requests().len(), 1);
    assert!(!run.stdout.contains("wImE/DswK") && !run.stderr.contains("wImE/DswK"));
}

/// A server process started by a test, stopped when dropped.
struct Daemon {
    child: std::process::Child,
    _dir: Tree,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "server on {port} did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether a database test can run; without its server installed it is skipped, unless
/// `KEYSIFT_REQUIRE_DATABASES` is set (as `.ci/run` does).
fn have(program: &str) -> bool {
    let found = std::path::Path::new(program).exists();
    if !found {
        assert!(
            std::env::var_os("KEYSIFT_REQUIRE_DATABASES").is_none(),
            "{program} is required (KEYSIFT_REQUIRE_DATABASES) but not installed"
        );
        eprintln!("skipped: {program} is not installed");
    }
    found
}

/// Synthetic passwords for the test servers.
const DB_PASSWORD: &str = "kS7-test-Vq2pLm9Zr";

fn database_verdicts(uri_file: &str, extra: &[&str]) -> (Run, Vec<Value>) {
    let tree = Tree::new();
    tree.write("app.env", uri_file);
    let mut args = vec!["--verify", "--confidence", "low"];
    args.extend_from_slice(extra);
    let (run, json) = run_in(&tree, &args);
    let found = json["findings"].as_array().cloned().unwrap_or_default();
    (run, found)
}

#[test]
fn redis_logins_are_checked_against_a_real_server() {
    if !have("/usr/bin/redis-server") {
        return;
    }
    let dir = Tree::new();
    let port = free_port();
    let child = std::process::Command::new("/usr/bin/redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--requirepass",
            DB_PASSWORD,
        ])
        .args(["--save", "", "--appendonly", "no", "--dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _daemon = Daemon { child, _dir: dir };
    wait_for_port(port);

    let uris = format!(
        "CACHE=redis://:{DB_PASSWORD}@127.0.0.1:{port}/0\nOLD=redis://:Xr4-Tq8wNz2bLk6@127.0.0.1:{port}/0\n"
    );
    let (run, found) = database_verdicts(&uris, &["--verify-allow-private"]);
    assert_eq!(found.len(), 2, "{}", run.stderr);
    let status = |line: u64| {
        found
            .iter()
            .find(|f| f["line"] == line)
            .map(|f| f["verification"]["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status(1), "live");
    assert_eq!(status(2), "invalid");

    // Without --verify-allow-private a loopback server is refused before connecting.
    let (_, found) = database_verdicts(&uris, &[]);
    for f in &found {
        assert_eq!(f["verification"]["status"], "unknown");
        assert!(f["verification"]["reason"]
            .as_str()
            .unwrap()
            .contains("--verify-allow-private"));
    }
}

#[test]
fn postgres_logins_are_checked_against_a_real_server() {
    let Some(bin) = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|versions| versions.flatten().map(|v| v.path().join("bin")).max())
    else {
        have("/usr/lib/postgresql");
        return;
    };
    let dir = Tree::new();
    let data = dir.join("data");
    let password_file = dir.write("pw", DB_PASSWORD);
    // PostgreSQL refuses to run as root: run it as the `postgres` user then.
    let as_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let command = |program: &str| {
        let mut c = if as_root {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin.join(program));
            c
        } else {
            std::process::Command::new(bin.join(program))
        };
        c.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        c
    };
    if as_root {
        std::process::Command::new("chown")
            .args(["-R", "postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
    }
    let status = command("initdb")
        .args(["-U", "keysift", "--auth=scram-sha-256", "--pwfile"])
        .arg(&password_file)
        .arg("-D")
        .arg(&data)
        .status()
        .unwrap();
    assert!(status.success(), "initdb failed");
    let port = free_port();
    let child = command("postgres")
        .arg("-D")
        .arg(&data)
        .args([
            "-p",
            &port.to_string(),
            "-c",
            "listen_addresses=127.0.0.1",
            "-k",
        ])
        .arg(dir.path())
        .spawn()
        .unwrap();
    let _daemon = Daemon { child, _dir: dir };
    wait_for_port(port);

    let uris = format!(
        "DATABASE_URL=postgres://keysift:{DB_PASSWORD}@127.0.0.1:{port}/app\nOLD_URL=postgres://keysift:Xr4-Tq8wNz2bLk6@127.0.0.1:{port}/app\n"
    );
    let (run, found) = database_verdicts(&uris, &["--verify-allow-private"]);
    assert_eq!(found.len(), 2, "{}", run.stderr);
    assert_eq!(status_at(&found, 1), "live", "{found:?}");
    let line_1 = found.iter().find(|f| f["line"] == 1).unwrap();
    assert_eq!(
        line_1["verification"]["identity"],
        format!("keysift@127.0.0.1:{port}")
    );
    assert_eq!(status_at(&found, 2), "invalid", "{found:?}");
    assert!(!run.stdout.contains(DB_PASSWORD) && !run.stderr.contains(DB_PASSWORD));
}

#[test]
fn the_verdict_cache_answers_a_second_run_and_never_holds_a_secret() {
    let github = github();
    let aws = sts();
    let tree = Tree::new();
    tree.write("live.env", format!("GITHUB_TOKEN={GITHUB_TOKEN}\n"));
    tree.write("dead.env", format!("GITHUB_TOKEN={GITHUB_TOKEN_2}\n"));
    tree.write(
        "credentials",
        "[default]\naws_access_key_id = AKIA6FPXIXLBKGB9EGZC\naws_secret_access_key = wImE/DswK/uKpvrN4WVP8ebz6n2dVcExSonFMFMq\n",
    );
    let cache_dir = Tree::new();
    let cache = cache_dir.join("verdicts.json");
    let cache_flag = format!("--verify-cache={}", cache.display());
    let github_endpoint = format!("github={}", github.url());
    let aws_endpoint = format!("aws-sts={}", aws.url());
    let args = [
        "--verify",
        "--verify-endpoint",
        &github_endpoint,
        "--verify-endpoint",
        &aws_endpoint,
        &cache_flag,
    ];
    let (first, json) = run_in(&tree, &args);
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert_eq!((github.requests().len(), aws.requests().len()), (2, 1));
    let mut expected = verdicts(&json);
    expected.sort();

    let written = std::fs::read_to_string(&cache).unwrap();
    for part in [
        GITHUB_TOKEN,
        GITHUB_TOKEN_2,
        "AKIA6FPXIXLBKGB9EGZC",
        "wImE/DswK/uKpvrN4WVP8ebz6n2dVcExSonFMFMq",
    ] {
        assert!(!written.contains(part), "{part} is in the cache: {written}");
        assert!(
            !written.contains(&part[4..20]),
            "part of {part} is in the cache"
        );
    }

    // The second run asks nobody and says the same.
    let (second, json) = run_in(&tree, &args);
    assert_eq!(second.code, 1);
    assert_eq!((github.requests().len(), aws.requests().len()), (2, 1));
    let mut again = verdicts(&json);
    again.sort();
    assert_eq!(again, expected);
    let live = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("live.env"))
        .unwrap();
    assert_eq!(live["verification"]["identity"], "octo-test");
    assert!(
        second.stderr.contains("3 answered from the cache"),
        "{}",
        second.stderr
    );

    // Expired verdicts are asked again.
    let mut expired = args.to_vec();
    expired.extend(["--verify-cache-ttl", "0s"]);
    run_in(&tree, &expired);
    assert_eq!((github.requests().len(), aws.requests().len()), (4, 2));
}

#[test]
fn unknown_verdicts_are_not_cached_and_a_broken_cache_is_an_error() {
    let failing = Server::start(|_, _| Response::json(503, json!({})));
    let tree = Tree::new();
    tree.write("a.env", format!("GITHUB_TOKEN={GITHUB_TOKEN}\n"));
    let cache_dir = Tree::new();
    let cache = cache_dir.join("verdicts.json");
    let cache_flag = format!("--verify-cache={}", cache.display());
    let endpoint = format!("github={}", failing.url());
    let args = ["--verify", "--verify-endpoint", &endpoint, &cache_flag];
    run_in(&tree, &args);
    run_in(&tree, &args);
    assert_eq!(failing.requests().len(), 6, "three attempts each run");

    std::fs::write(&cache, "{ not json").unwrap();
    let (run, _) = run_in(&tree, &args);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("verdicts.json")
            && run.stderr.contains("not a keysift verification cache"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&cache).unwrap(), "{ not json");
}

#[test]
fn mysql_logins_are_checked_against_a_real_mariadb_server() {
    if !have("/usr/sbin/mariadbd") {
        return;
    }
    let dir = Tree::new();
    let data = dir.join("data");
    let socket = dir.join("mariadb.sock");
    // MariaDB refuses to run as root unless told to run as root.
    let as_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let user_flag = if as_root { "--user=root" } else { "--verbose" };
    let status = std::process::Command::new("mariadb-install-db")
        .args([
            "--no-defaults",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            user_flag,
        ])
        .arg(format!("--datadir={}", data.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "mariadb-install-db failed");
    let port = free_port();
    let child = std::process::Command::new("/usr/sbin/mariadbd")
        .args([
            "--no-defaults",
            "--bind-address=127.0.0.1",
            "--skip-log-bin",
            user_flag,
        ])
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--socket={}", socket.display()))
        .arg(format!("--port={port}"))
        .arg(format!("--pid-file={}", dir.join("mariadbd.pid").display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _daemon = Daemon { child, _dir: dir };
    wait_for_port(port);
    let create = format!("CREATE USER 'keysift'@'%' IDENTIFIED BY '{DB_PASSWORD}'");
    let status = std::process::Command::new("mariadb")
        .args(["--no-defaults", "-u", "root", "-e", &create])
        .arg(format!("--socket={}", socket.display()))
        .status()
        .unwrap();
    assert!(status.success(), "creating the test user failed");

    let uris = format!(
        "DATABASE_URL=mysql://keysift:{DB_PASSWORD}@127.0.0.1:{port}/app\n\
         OLD_URL=mysql://keysift:Xr4-Tq8wNz2bLk6@127.0.0.1:{port}/app\n\
         GHOST_URL=mariadb://ghost:Pw8-Lz3qRt6Vn1@127.0.0.1:{port}/app\n"
    );
    let (run, found) = database_verdicts(&uris, &["--verify-allow-private"]);
    assert_eq!(found.len(), 3, "{}", run.stderr);
    assert_eq!(status_at(&found, 1), "live", "{found:?}");
    let line_1 = found.iter().find(|f| f["line"] == 1).unwrap();
    assert_eq!(
        line_1["verification"]["identity"],
        format!("keysift@127.0.0.1:{port}")
    );
    assert_eq!(status_at(&found, 2), "invalid", "{found:?}");
    assert_eq!(status_at(&found, 3), "invalid", "{found:?}");
    assert!(!run.stdout.contains(DB_PASSWORD) && !run.stderr.contains(DB_PASSWORD));

    // Without --verify-allow-private a loopback server is refused before connecting.
    let (_, found) = database_verdicts(&uris, &[]);
    for f in &found {
        assert_eq!(f["verification"]["status"], "unknown");
        assert!(f["verification"]["reason"]
            .as_str()
            .unwrap()
            .contains("--verify-allow-private"));
    }
}

/// A server that is not MySQL (here: an HTTP server) gives an unknown verdict with the reason,
/// never a crash or a hang.
#[test]
fn a_mysql_uri_pointing_at_something_else_is_unknown() {
    let server = Server::start(|_, _| Response::new(200, "hello"));
    // The HTTP server waits for a request while a MySQL client waits for a greeting: the
    // timeout ends it.
    let uri = format!(
        "DB=mysql://keysift:Xr4-Tq8wNz2bLk6@127.0.0.1:{}/app\n",
        server.port
    );
    let (_, found) = database_verdicts(&uri, &["--verify-allow-private", "--verify-timeout", "1"]);
    assert_eq!(
        found[0]["verification"]["status"], "unknown",
        "{:?}",
        found[0]
    );
    let closed = free_port();
    let uri = format!("DB=mysql://keysift:Xr4-Tq8wNz2bLk6@127.0.0.1:{closed}/app\n");
    let (_, found) = database_verdicts(&uri, &["--verify-allow-private"]);
    assert_eq!(found[0]["verification"]["status"], "unknown");
    assert!(found[0]["verification"]["reason"]
        .as_str()
        .unwrap()
        .contains("cannot connect"));
}

/// Every report format carries the verdict: JSONL and SARIF as fields, GitLab (which has no
/// field for it) in the description, human output on the finding's line.
#[test]
fn every_format_shows_the_verdict() {
    let server = github();
    let tree = Tree::new();
    tree.write("live.env", format!("GITHUB_TOKEN={GITHUB_TOKEN}\n"));
    let endpoint = format!("github={}", server.url());
    let scan = |format: &str| {
        let output = keysift()
            .arg("dir")
            .arg(tree.path())
            .args([
                "--verify",
                "--verify-endpoint",
                &endpoint,
                "--format",
                format,
            ])
            .args(["--color", "never"])
            .output()
            .unwrap();
        let run = common::finish(output);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        assert!(!run.stdout.contains(GITHUB_TOKEN), "{format}");
        run.stdout
    };
    let line: Value = serde_json::from_str(scan("jsonl").lines().next().unwrap()).unwrap();
    assert_eq!(line["verification"]["status"], "live");
    let sarif: Value = serde_json::from_str(&scan("sarif")).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["properties"]["verification"]["status"], "live");
    assert_eq!(result["level"], "error");
    let gitlab: Value = serde_json::from_str(&scan("gitlab")).unwrap();
    let description = gitlab["vulnerabilities"][0]["description"]
        .as_str()
        .unwrap();
    assert!(
        description.ends_with("Verified with the provider: live (octo-test)."),
        "{description}"
    );
    assert!(scan("human").contains("verified: live (octo-test)"));
}

/// The verdict of the finding on `line`.
fn status_at(found: &[Value], line: u64) -> &str {
    let finding = found.iter().find(|f| f["line"] == line);
    finding.map_or("no finding", |f| {
        f["verification"]["status"].as_str().unwrap_or("none")
    })
}
