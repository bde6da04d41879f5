//! MongoDB logins against a loopback stand-in: MongoDB's server is not in Debian, so this test
//! plays the server side of SCRAM-SHA-256 (RFC 5802 / RFC 7677) over OP_MSG itself, with its
//! own BSON and ring's PBKDF2 and HMAC, sharing no code with the client under test.

mod common;

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    num::NonZeroU32,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use base64::Engine as _;
use common::{scan_json, Tree};
use md5::Digest as _;
use serde_json::Value;

const USER: &str = "reporting";
const PASSWORD: &str = "mG4-test-Tr8qLx2Vw";
const AUTH_DB: &str = "analytics";

// A BSON value, the few types a SCRAM conversation uses.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Str(String),
    Int(i32),
    Double(f64),
    Bool(bool),
    Bin(Vec<u8>),
    Doc(Vec<(String, V)>),
}

fn encode(doc: &[(String, V)]) -> Vec<u8> {
    let mut out = vec![0; 4];
    for (name, value) in doc {
        let (tag, body): (u8, Vec<u8>) = match value {
            V::Double(d) => (1, d.to_le_bytes().to_vec()),
            V::Str(s) => (
                2,
                [
                    &((s.len() + 1) as i32).to_le_bytes()[..],
                    s.as_bytes(),
                    &[0],
                ]
                .concat(),
            ),
            V::Doc(d) => (3, encode(d)),
            V::Bin(b) => (5, [&(b.len() as i32).to_le_bytes()[..], &[0], b].concat()),
            V::Bool(b) => (8, vec![*b as u8]),
            V::Int(i) => (0x10, i.to_le_bytes().to_vec()),
        };
        out.push(tag);
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend(body);
    }
    out.push(0);
    let n = out.len() as i32;
    out[..4].copy_from_slice(&n.to_le_bytes());
    out
}

fn decode(bytes: &[u8]) -> Vec<(String, V)> {
    let len = i32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
    let mut at = 4;
    let mut doc = Vec::new();
    while at < len - 1 {
        let tag = bytes[at];
        let end = at + 1 + bytes[at + 1..].iter().position(|&b| b == 0).unwrap();
        let name = String::from_utf8(bytes[at + 1..end].to_vec()).unwrap();
        at = end + 1;
        let int = |at: usize| i32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let value = match tag {
            1 => {
                at += 8;
                V::Double(f64::from_le_bytes(bytes[at - 8..at].try_into().unwrap()))
            }
            2 => {
                let n = int(at);
                at += 4 + n;
                V::Str(String::from_utf8(bytes[at - n..at - 1].to_vec()).unwrap())
            }
            3 => {
                let n = int(at);
                at += n;
                V::Doc(decode(&bytes[at - n..at]))
            }
            5 => {
                let n = int(at);
                at += 5 + n;
                V::Bin(bytes[at - n..at].to_vec())
            }
            8 => {
                at += 1;
                V::Bool(bytes[at - 1] != 0)
            }
            0x10 => {
                at += 4;
                V::Int(int(at - 4) as i32)
            }
            other => panic!("the test server does not expect BSON type {other}"),
        };
        doc.push((name, value));
    }
    doc
}

fn get<'a>(doc: &'a [(String, V)], name: &str) -> Option<&'a V> {
    doc.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

fn read_message(stream: &mut TcpStream) -> Option<Vec<(String, V)>> {
    let mut header = [0u8; 16];
    stream.read_exact(&mut header).ok()?;
    let len = i32::from_le_bytes(header[..4].try_into().unwrap()) as usize;
    assert_eq!(
        i32::from_le_bytes(header[12..16].try_into().unwrap()),
        2013,
        "OP_MSG"
    );
    let mut rest = vec![0; len - 16];
    stream.read_exact(&mut rest).ok()?;
    assert_eq!(&rest[..5], &[0, 0, 0, 0, 0], "no flags, a body section");
    Some(decode(&rest[5..]))
}

fn send_message(stream: &mut TcpStream, doc: Vec<(&str, V)>) {
    let doc: Vec<(String, V)> = doc.into_iter().map(|(n, v)| (n.to_string(), v)).collect();
    let body = encode(&doc);
    let len = (16 + 5 + body.len()) as i32;
    let mut out = Vec::new();
    for field in [len, 99, 1, 2013] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out.extend_from_slice(&[0, 0, 0, 0, 0]);
    out.extend(body);
    stream.write_all(&out).unwrap();
}

/// The SCRAM primitives of one mechanism, from ring.
struct Scram {
    sha1: bool,
}

impl Scram {
    fn hmac(&self, key: &[u8], data: &[u8]) -> Vec<u8> {
        let algorithm = match self.sha1 {
            true => ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            false => ring::hmac::HMAC_SHA256,
        };
        ring::hmac::sign(&ring::hmac::Key::new(algorithm, key), data)
            .as_ref()
            .to_vec()
    }

    fn hash(&self, data: &[u8]) -> Vec<u8> {
        let algorithm = match self.sha1 {
            true => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            false => &ring::digest::SHA256,
        };
        ring::digest::digest(algorithm, data).as_ref().to_vec()
    }

    /// The salted password; SCRAM-SHA-1 in MongoDB salts MD5("user:mongo:password") in hex.
    fn salted(&self, salt: &[u8]) -> Vec<u8> {
        let (algorithm, length, password) = match self.sha1 {
            true => {
                let digest = md5::Md5::digest(format!("{USER}:mongo:{PASSWORD}"));
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                (ring::pbkdf2::PBKDF2_HMAC_SHA1, 20, hex)
            }
            false => (ring::pbkdf2::PBKDF2_HMAC_SHA256, 32, PASSWORD.to_string()),
        };
        let mut out = vec![0; length];
        ring::pbkdf2::derive(
            algorithm,
            NonZeroU32::new(4096).unwrap(),
            salt,
            password.as_bytes(),
            &mut out,
        );
        out
    }
}

fn denied(stream: &mut TcpStream) {
    send_message(
        stream,
        vec![
            ("ok", V::Double(0.0)),
            ("errmsg", V::Str("Authentication failed.".into())),
            ("code", V::Int(18)),
            ("codeName", V::Str("AuthenticationFailed".into())),
        ],
    );
}

/// How the stand-in behaves.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// As MongoDB does, with SCRAM-SHA-256 and SCRAM-SHA-1 credentials for the user.
    Honest,
    /// As MongoDB does for a user created with SCRAM-SHA-1 only.
    Sha1Only,
    /// Accepts any proof and signs its answer with garbage.
    Liar,
}

/// One SCRAM-SHA-256 conversation, server side.
fn serve(mut stream: TcpStream, mode: Mode) {
    let b64 = base64::engine::general_purpose::STANDARD;
    let salt = b"keysift-test-salt".to_vec();
    let iterations = 4096;
    // The handshake: which mechanisms the user has.
    let Some(hello) = read_message(&mut stream) else {
        return;
    };
    assert_eq!(get(&hello, "hello"), Some(&V::Int(1)));
    let asks_for_user =
        get(&hello, "saslSupportedMechs") == Some(&V::Str(format!("{AUTH_DB}.{USER}")));
    let mechs: &[&str] = match mode {
        _ if !asks_for_user => &[],
        Mode::Sha1Only => &["SCRAM-SHA-1"],
        Mode::Honest | Mode::Liar => &["SCRAM-SHA-1", "SCRAM-SHA-256"],
    };
    let mut answer = vec![("isWritablePrimary", V::Bool(true)), ("ok", V::Double(1.0))];
    if !mechs.is_empty() {
        let list = mechs
            .iter()
            .enumerate()
            .map(|(i, m)| (i.to_string(), V::Str(m.to_string())))
            .collect();
        answer.insert(0, ("saslSupportedMechs", V::Doc(list)));
    }
    send_message(&mut stream, answer);

    let Some(start) = read_message(&mut stream) else {
        return;
    };
    assert_eq!(get(&start, "saslStart"), Some(&V::Int(1)));
    let scram = Scram {
        sha1: mode == Mode::Sha1Only,
    };
    let expected = if scram.sha1 {
        "SCRAM-SHA-1"
    } else {
        "SCRAM-SHA-256"
    };
    assert_eq!(get(&start, "mechanism"), Some(&V::Str(expected.into())));
    let salted = scram.salted(&salt);
    assert_eq!(get(&start, "$db"), Some(&V::Str(AUTH_DB.into())));
    let Some(V::Bin(first)) = get(&start, "payload") else {
        panic!("no payload")
    };
    let first = String::from_utf8(first.clone()).unwrap();
    let bare = first
        .strip_prefix("n,,")
        .expect("no channel binding")
        .to_string();
    let user = bare
        .strip_prefix("n=")
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let client_nonce = bare.split(",r=").nth(1).unwrap().to_string();
    if user != USER {
        return denied(&mut stream);
    }
    let server_first = format!(
        "r={client_nonce}Zq3srvNonce9,s={},i={iterations}",
        b64.encode(&salt)
    );
    send_message(
        &mut stream,
        vec![
            ("conversationId", V::Int(1)),
            ("done", V::Bool(false)),
            ("payload", V::Bin(server_first.clone().into_bytes())),
            ("ok", V::Double(1.0)),
        ],
    );
    let Some(next) = read_message(&mut stream) else {
        return;
    };
    assert_eq!(get(&next, "saslContinue"), Some(&V::Int(1)));
    assert_eq!(get(&next, "conversationId"), Some(&V::Int(1)));
    let Some(V::Bin(last)) = get(&next, "payload") else {
        panic!("no payload")
    };
    let last = String::from_utf8(last.clone()).unwrap();
    let (without_proof, proof) = last.rsplit_once(",p=").unwrap();
    assert!(without_proof.starts_with(&format!("c=biws,r={client_nonce}Zq3srvNonce9")));
    let auth_message = format!("{bare},{server_first},{without_proof}");
    let stored_key = scram.hash(&scram.hmac(&salted, b"Client Key"));
    let signature = scram.hmac(&stored_key, auth_message.as_bytes());
    let proof = b64.decode(proof).unwrap();
    let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(p, s)| p ^ s).collect();
    let genuine = scram.hash(&client_key) == stored_key;
    let server_signature = match mode {
        Mode::Liar => vec![7; 32],
        _ if !genuine => return denied(&mut stream),
        _ => scram.hmac(&scram.hmac(&salted, b"Server Key"), auth_message.as_bytes()),
    };
    send_message(
        &mut stream,
        vec![
            ("conversationId", V::Int(1)),
            ("done", V::Bool(true)),
            (
                "payload",
                V::Bin(format!("v={}", b64.encode(server_signature)).into_bytes()),
            ),
            ("ok", V::Double(1.0)),
        ],
    );
}

/// Starts the stand-in; returns its port and a count of connections.
fn mongod(mode: Mode) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || serve(stream, mode));
        }
    });
    (port, connections)
}

fn verdicts(text: &str, extra: &[&str]) -> Vec<Value> {
    let tree = Tree::new();
    tree.write("app.env", text);
    let run = scan_json(tree.path(), &[&["--verify"], extra].concat());
    assert!(!run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD));
    let mut findings = run.json()["findings"].as_array().cloned().unwrap();
    findings.sort_by_key(|f| f["line"].as_u64());
    findings.iter().map(|f| f["verification"].clone()).collect()
}

#[test]
fn mongodb_logins_use_scram_sha_256() {
    let (port, connections) = mongod(Mode::Honest);
    let uris = format!(
        "A=mongodb://{USER}:{PASSWORD}@127.0.0.1:{port},127.0.0.1:1/{AUTH_DB}?replicaSet=rs0\n\
         B=mongodb://{USER}:Wr0ng-Pw5-Zq8vLx1@127.0.0.1:{port}/?tls=false&authSource={AUTH_DB}\n\
         C=mongodb://nobody:Pw8-Lz3qRt6Vn1xY@127.0.0.1:{port}/{AUTH_DB}\n"
    );
    let found = verdicts(&uris, &["--verify-allow-private"]);
    assert_eq!(found.len(), 3);
    assert_eq!(found[0]["status"], "live", "{:?}", found[0]);
    assert_eq!(found[0]["identity"], format!("{USER}@127.0.0.1:{port}"));
    assert_eq!(found[1]["status"], "invalid", "{:?}", found[1]);
    assert_eq!(found[2]["status"], "invalid", "{:?}", found[2]);
    assert_eq!(connections.load(Ordering::SeqCst), 3);

    // A loopback server is refused without --verify-allow-private.
    let found = verdicts(&uris, &[]);
    assert!(found.iter().all(|v| v["status"] == "unknown"));
    assert_eq!(connections.load(Ordering::SeqCst), 3);
}

#[test]
fn users_with_only_scram_sha_1_credentials_use_it() {
    let (port, _) = mongod(Mode::Sha1Only);
    let uris = format!(
        "A=mongodb://{USER}:{PASSWORD}@127.0.0.1:{port}/{AUTH_DB}\n\
         B=mongodb://{USER}:Wr0ng-Pw5-Zq8vLx1@127.0.0.1:{port}/{AUTH_DB}\n"
    );
    let found = verdicts(&uris, &["--verify-allow-private"]);
    assert_eq!(found[0]["status"], "live", "{:?}", found[0]);
    assert_eq!(found[1]["status"], "invalid", "{:?}", found[1]);
}

#[test]
fn a_server_that_cannot_prove_the_password_is_not_believed() {
    let (port, _) = mongod(Mode::Liar);
    let uri = format!("A=mongodb://{USER}:Wr0ng-Pw5-Zq8vLx1@127.0.0.1:{port}/{AUTH_DB}\n");
    let found = verdicts(&uri, &["--verify-allow-private"]);
    assert_eq!(found[0]["status"], "unknown", "{:?}", found[0]);
    assert!(found[0]["reason"]
        .as_str()
        .unwrap()
        .contains("not believed"));
}

#[test]
fn srv_uris_are_not_resolved() {
    let uri = format!("A=mongodb+srv://{USER}:{PASSWORD}@cluster0.ab1cd.mongodb.net/{AUTH_DB}\n");
    let found = verdicts(&uri, &[]);
    assert_eq!(found[0]["status"], "unknown");
    assert!(found[0]["reason"].as_str().unwrap().contains("SRV"));
}
