//! `keysift image` pulling from registries: a real one (Debian's `docker-registry`, the CNCF
//! distribution registry, started here on 127.0.0.1, with and without htpasswd auth; images are
//! pushed to it by the test over the distribution API) and a small loopback server that speaks
//! the Bearer token flow and serves a blob whose content does not match its digest.
//!
//! Without `docker-registry` installed the real-registry tests are skipped with a message,
//! unless `KEYSIFT_REQUIRE_REGISTRY` is set (as `.ci/run` does), where they fail instead.

mod common;

use std::{
    collections::HashMap,
    fs,
    io::{BufRead, BufReader, Write},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Child, Command},
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

use common::{
    images::{config, gzip, layer_tar, oci_layout, sha256},
    keysift, Run, Tree, GITHUB_TOKEN, GITHUB_TOKEN_2,
};
use serde_json::{json, Value};

/// The htpasswd line for user `tester`, password [`PASSWORD`] (bcrypt, made with
/// `htpasswd -Bbn`). Synthetic: it guards nothing but this test's registry.
const HTPASSWD: &str = "tester:$2y$05$Fg.vP767wB6APlOqfADdUuqdU8zaSigsEFCeCX10Tp9RcOgNgB9tG\n";
const PASSWORD: &str = "s3cret-pass";

/// A `docker-registry` process on a free loopback port, stopped when dropped.
struct LocalRegistry {
    child: Child,
    port: u16,
    _dir: Tree,
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LocalRegistry {
    /// Starts a registry, with htpasswd auth when `auth`; `None` when the binary is missing
    /// and the registry is not required.
    fn start(auth: bool) -> Option<LocalRegistry> {
        let binary = ["/usr/bin/docker-registry", "/usr/local/bin/registry"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        let Some(binary) = binary else {
            assert!(
                std::env::var_os("KEYSIFT_REQUIRE_REGISTRY").is_none(),
                "docker-registry is required (KEYSIFT_REQUIRE_REGISTRY) but not installed"
            );
            eprintln!(
                "skipped: docker-registry is not installed (apt-get install docker-registry)"
            );
            return None;
        };
        let dir = Tree::new();
        let port = free_port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: keysift-test-only\n",
            dir.join("data").display()
        );
        if auth {
            let htpasswd = dir.write("htpasswd", HTPASSWD);
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: keysift-test\n    path: {}\n",
                htpasswd.display()
            ));
        }
        let config_path = dir.write("config.yml", config);
        let log = fs::File::create(dir.join("registry.log")).unwrap();
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let registry = LocalRegistry {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "docker-registry did not start");
            thread::sleep(Duration::from_millis(50));
        }
        Some(registry)
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Pushes an OCI layout's blobs, its image manifests (by digest) and its index (as `tag`) to
/// `base`/`repository` over the distribution API. Returns the index digest.
fn push(
    base: &str,
    repository: &str,
    tag: &str,
    layout: &[(String, Vec<u8>)],
    auth: Option<&str>,
) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let with_auth = |request: ureq::RequestBuilder<ureq::typestate::WithBody>| match auth {
        Some(a) => request.header("Authorization", a),
        None => request,
    };
    let blobs: HashMap<&str, &Vec<u8>> = layout
        .iter()
        .filter_map(|(name, bytes)| Some((name.strip_prefix("blobs/sha256/")?, bytes)))
        .collect();
    for (hex, bytes) in &blobs {
        let mut start = agent.post(format!("{base}/v2/{repository}/blobs/uploads/"));
        if let Some(a) = auth {
            start = start.header("Authorization", a);
        }
        let started = start.send_empty().unwrap();
        assert_eq!(started.status().as_u16(), 202, "start upload");
        let location = started.headers()["location"].to_str().unwrap().to_string();
        let location = if location.starts_with("http") {
            location
        } else {
            format!("{base}{location}")
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{separator}digest=sha256:{hex}");
        let done = with_auth(agent.put(&url))
            .header("Content-Type", "application/octet-stream")
            .send(bytes.as_slice())
            .unwrap();
        assert_eq!(done.status().as_u16(), 201, "upload blob");
    }
    let put_manifest = |reference: &str, media_type: &str, bytes: &[u8]| {
        let url = format!("{base}/v2/{repository}/manifests/{reference}");
        let done = with_auth(agent.put(&url))
            .header("Content-Type", media_type)
            .send(bytes)
            .unwrap();
        let status = done.status().as_u16();
        let body = done.into_body().read_to_string().unwrap_or_default();
        assert_eq!(status, 201, "put manifest {reference}: {body}");
    };
    let index_bytes = &layout.iter().find(|(n, _)| n == "index.json").unwrap().1;
    let mut index: Value = serde_json::from_slice(index_bytes).unwrap();
    for manifest in index["manifests"].as_array().unwrap() {
        let digest = manifest["digest"].as_str().unwrap();
        put_manifest(
            digest,
            manifest["mediaType"].as_str().unwrap(),
            blobs[&digest[7..]],
        );
    }
    index["mediaType"] = json!("application/vnd.oci.image.index.v1+json");
    let index_bytes = serde_json::to_vec(&index).unwrap();
    put_manifest(tag, "application/vnd.oci.image.index.v1+json", &index_bytes);
    sha256(&index_bytes)
}

/// Two platforms sharing a base layer that holds a secret deleted by the amd64 image's second
/// layer; the arm64 image has a secret in its config.
fn two_platform_layout() -> Vec<(String, Vec<u8>)> {
    let base = gzip(&layer_tar(&[(
        "etc/app/.env",
        &format!("GITHUB_TOKEN={GITHUB_TOKEN}\n"),
    )]));
    let cleanup = gzip(&layer_tar(&[("etc/app/.wh..env", "")]));
    const GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    let arm_env = format!("TOKEN={GITHUB_TOKEN_2}");
    oci_layout(&[
        (
            "app:1.2",
            "linux/amd64",
            config(&[]),
            vec![(base.clone(), GZIP), (cleanup, GZIP)],
        ),
        (
            "app:1.2",
            "linux/arm64",
            config(&[&arm_env]),
            vec![(base, GZIP)],
        ),
    ])
}

fn image_scan(args: &[&str], env: &[(&str, &str)]) -> (Run, Value) {
    let mut command = keysift();
    command
        .args(["image", "--format", "json"])
        .args(args)
        .env_remove("KEYSIFT_REGISTRY_USERNAME")
        .env_remove("KEYSIFT_REGISTRY_PASSWORD")
        // No user's Docker config leaks into a test.
        .env("DOCKER_CONFIG", "/nonexistent-keysift-test");
    for (key, value) in env {
        command.env(key, value);
    }
    let run = common::finish(command.output().unwrap());
    let json = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    (run, json)
}

fn findings(json: &Value) -> Vec<&Value> {
    json["findings"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

#[test]
fn images_are_pulled_from_a_real_registry_by_tag_and_by_digest() {
    let Some(registry) = LocalRegistry::start(false) else {
        return;
    };
    let index_digest = push(
        &registry.base(),
        "team/app",
        "1.2",
        &two_platform_layout(),
        None,
    );
    let reference = format!("{}/team/app:1.2", registry.host());

    let (run, json) = image_scan(&["--insecure", &reference], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found = findings(&json);
    // The shared base layer's secret, in both platforms, and the arm64 config's.
    assert_eq!(found.len(), 3, "{json:#}");
    let amd = found
        .iter()
        .find(|f| f["image"]["platform"] == "linux/amd64")
        .unwrap();
    assert_eq!(amd["image"]["image"], reference);
    assert_eq!(amd["image"]["path"], "etc/app/.env");
    assert_eq!(amd["image"]["status"], "deleted");
    assert!(amd["image"]["manifest_digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert!(found.iter().any(|f| f["image"]["path"] == "config.Env[0]"));
    assert_eq!(
        json["summary"]["blobs_scanned"], 1,
        "the shared layer is read once: {json:#}"
    );

    // --platform picks one image of the index.
    let (_, json) = image_scan(
        &["--insecure", "--platform", "linux/arm64", &reference],
        &[],
    );
    assert_eq!(findings(&json).len(), 2);
    assert!(findings(&json)
        .iter()
        .all(|f| f["image"]["platform"] == "linux/arm64"));

    // Pinned by digest.
    let pinned = format!("{}/team/app@{index_digest}", registry.host());
    let (run, json) = image_scan(&["--insecure", &pinned], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(findings(&json).len(), 3);

    // A digest the registry does not have, and a tag it does not have.
    let wrong = format!("{}/team/app@sha256:{}", registry.host(), "0".repeat(64));
    let (run, _) = image_scan(&["--insecure", &wrong], &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not found"), "{}", run.stderr);
    let (run, _) = image_scan(
        &["--insecure", &format!("{}/team/app:nope", registry.host())],
        &[],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("team/app:nope"), "{}", run.stderr);

    // Without --insecure keysift speaks HTTPS, which this registry does not: an error, never a
    // silent fall back to plain HTTP.
    let (run, _) = image_scan(&[&reference], &[]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    // --insecure is for this machine only.
    let (run, _) = image_scan(&["--insecure", "registry.example.com/team/app:1"], &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("only allowed"), "{}", run.stderr);
}

#[test]
fn an_htpasswd_registry_takes_credentials_from_the_environment_or_docker_config() {
    let Some(registry) = LocalRegistry::start(true) else {
        return;
    };
    let basic = format!(
        "Basic {}",
        base64_encode(format!("tester:{PASSWORD}").as_bytes())
    );
    push(
        &registry.base(),
        "private/app",
        "1",
        &two_platform_layout(),
        Some(&basic),
    );
    let reference = format!("{}/private/app:1", registry.host());

    let (run, _) = image_scan(&["--insecure", &reference], &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no credentials"), "{}", run.stderr);

    let (run, json) = image_scan(
        &["--insecure", &reference],
        &[
            ("KEYSIFT_REGISTRY_USERNAME", "tester"),
            ("KEYSIFT_REGISTRY_PASSWORD", PASSWORD),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(findings(&json).len(), 3);

    let (run, _) = image_scan(
        &["--insecure", &reference],
        &[
            ("KEYSIFT_REGISTRY_USERNAME", "tester"),
            ("KEYSIFT_REGISTRY_PASSWORD", "wrong-password"),
        ],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("access denied"), "{}", run.stderr);
    assert!(!run.stderr.contains("wrong-password"), "{}", run.stderr);

    // `docker login` leaves base64 "user:password" under auths.<registry>.auth.
    let docker = Tree::new();
    docker.write(
        "config.json",
        serde_json::to_vec(&json!({
            "auths": { registry.host(): { "auth": base64_encode(format!("tester:{PASSWORD}").as_bytes()) } }
        }))
        .unwrap(),
    );
    let (run, json) = image_scan(
        &["--insecure", &reference],
        &[("DOCKER_CONFIG", docker.path().to_str().unwrap())],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(findings(&json).len(), 3);
    assert!(!run.stderr.contains(PASSWORD) && !run.stdout.contains(PASSWORD));
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// What the fake registry saw: request lines and their `Authorization` headers.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A tiny registry on a loopback port: `/v2/*` wants a Bearer token from `/token`; it serves
/// the given manifests and blobs by path, except `corrupt`, whose bytes are swapped for others.
fn fake_registry(routes: HashMap<String, (String, Vec<u8>)>) -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let routes = routes.clone();
            let log = log.clone();
            thread::spawn(move || serve(stream, port, &routes, &log));
        }
    });
    (port, seen)
}

fn serve(
    stream: TcpStream,
    port: u16,
    routes: &HashMap<String, (String, Vec<u8>)>,
    log: &Mutex<Vec<(String, Option<String>)>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut authorization = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("authorization") {
                    authorization = Some(value.trim().to_string());
                }
            }
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_string();
        log.lock()
            .unwrap()
            .push((path.clone(), authorization.clone()));
        let (status, headers, body): (&str, String, Vec<u8>) = if path.starts_with("/token?") {
            (
                "200 OK",
                "Content-Type: application/json\r\n".into(),
                br#"{"token":"fake-pull-token"}"#.to_vec(),
            )
        } else if authorization.as_deref() != Some("Bearer fake-pull-token") {
            (
                "401 Unauthorized",
                format!("WWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"fake-registry\",scope=\"repository:team/app:pull\"\r\n"),
                b"{}".to_vec(),
            )
        } else if let Some((content_type, bytes)) = routes.get(&path) {
            (
                "200 OK",
                format!("Content-Type: {content_type}\r\n"),
                bytes.clone(),
            )
        } else {
            ("404 Not Found", String::new(), b"{}".to_vec())
        };
        let head = format!(
            "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\n\r\n",
            body.len()
        );
        // GET requests have no body: the next line is the next request (keep-alive).
        if stream.write_all(head.as_bytes()).is_err() || stream.write_all(&body).is_err() {
            return;
        }
    }
}

#[test]
fn bearer_tokens_are_fetched_and_a_blob_that_does_not_match_its_digest_is_an_error() {
    const GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    let good = gzip(&layer_tar(&[(
        "app/.env",
        &format!("GITHUB_TOKEN={GITHUB_TOKEN}\n"),
    )]));
    let tampered = gzip(&layer_tar(&[(
        "app/other.env",
        &format!("T={GITHUB_TOKEN_2}\n"),
    )]));
    let layout = oci_layout(&[(
        "app:1",
        "linux/amd64",
        config(&[]),
        vec![(good, GZIP), (tampered.clone(), GZIP)],
    )]);
    let mut routes = HashMap::new();
    let index: Value =
        serde_json::from_slice(&layout.iter().find(|(n, _)| n == "index.json").unwrap().1).unwrap();
    let manifest_digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let tampered_digest = sha256(&tampered);
    for (name, bytes) in &layout {
        let Some(hex) = name.strip_prefix("blobs/sha256/") else {
            continue;
        };
        let digest = format!("sha256:{hex}");
        let mut bytes = bytes.clone();
        if digest == tampered_digest {
            // Same length, different content: only the digest check can tell.
            bytes = gzip(&layer_tar(&[(
                "app/other.env",
                &format!("T={}\n", "x".repeat(GITHUB_TOKEN_2.len())),
            )]));
        }
        routes.insert(
            format!("/v2/team/app/blobs/{digest}"),
            ("application/octet-stream".to_string(), bytes.clone()),
        );
        if digest == manifest_digest {
            routes.insert(
                "/v2/team/app/manifests/1".to_string(),
                (
                    "application/vnd.oci.image.manifest.v1+json".to_string(),
                    bytes.clone(),
                ),
            );
            routes.insert(
                format!("/v2/team/app/manifests/{digest}"),
                (
                    "application/vnd.oci.image.manifest.v1+json".to_string(),
                    bytes,
                ),
            );
        }
    }
    let (port, seen) = fake_registry(routes);
    let reference = format!("127.0.0.1:{port}/team/app:1");
    let (run, json) = image_scan(&["--insecure", &reference], &[]);
    assert_eq!(run.code, 2, "the mismatch is an error: {}", run.stderr);
    assert!(
        run.stderr.contains("digest mismatch") && run.stderr.contains(&tampered_digest),
        "{}",
        run.stderr
    );
    let found = findings(&json);
    assert_eq!(found.len(), 1, "the good layer is still scanned: {json:#}");
    assert_eq!(found[0]["image"]["path"], "app/.env");

    let seen = seen.lock().unwrap();
    let token_request = seen
        .iter()
        .find(|(path, _)| path.starts_with("/token?"))
        .expect("a token request");
    assert!(
        token_request.0.contains("service=fake-registry")
            && token_request
                .0
                .contains("scope=repository%3Ateam%2Fapp%3Apull"),
        "{token_request:?}"
    );
    assert_eq!(token_request.1, None, "anonymous: no credentials sent");
    assert!(seen
        .iter()
        .filter(|(path, _)| path.starts_with("/v2/team/app/blobs/"))
        .all(|(_, auth)| auth.as_deref() == Some("Bearer fake-pull-token")));
}
