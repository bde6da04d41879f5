//! MySQL 8's default password method, `caching_sha2_password`, against a loopback stand-in
//! (Debian ships MariaDB, which does not have it; the MariaDB login itself is tested against a
//! real server in tests/verify.rs). The stand-in checks the client's scramble with ring's
//! SHA-256, sharing no code with the client.

mod common;

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use common::{scan_json, Tree};
use serde_json::Value;

const USER: &str = "shop";
const PASSWORD: &str = "Qm7-test-Lx4vRt9Zp";
const SCRAMBLE: &[u8; 20] = b"0123456789abcdefghij";
const SWITCHED: &[u8; 20] = b"KLMNOPQRSTUVWXYZklmn";

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// The account is in the server's cache: the scramble alone logs in.
    FastAuth,
    /// Not cached: the server wants the password itself (TLS or RSA).
    FullAuth,
    /// The greeting offers mysql_native_password, then the account switches to
    /// caching_sha2_password with a new scramble.
    Switch,
}

fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for part in parts {
        context.update(part);
    }
    context.finish().as_ref().to_vec()
}

/// What caching_sha2_password's fast path expects for `scramble`.
fn expected(scramble: &[u8]) -> Vec<u8> {
    let stage1 = sha256(&[PASSWORD.as_bytes()]);
    let stage2 = sha256(&[&stage1]);
    let mask = sha256(&[&stage2, scramble]);
    stage1.iter().zip(&mask).map(|(a, b)| a ^ b).collect()
}

fn write_packet(stream: &mut TcpStream, sequence: u8, payload: &[u8]) {
    let mut packet = (payload.len() as u32).to_le_bytes()[..3].to_vec();
    packet.push(sequence);
    packet.extend_from_slice(payload);
    stream.write_all(&packet).unwrap();
}

fn read_packet(stream: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut head = [0u8; 4];
    stream.read_exact(&mut head).ok()?;
    let length = u32::from_le_bytes([head[0], head[1], head[2], 0]) as usize;
    let mut payload = vec![0; length];
    stream.read_exact(&mut payload).ok()?;
    Some((head[3], payload))
}

fn greeting(plugin: &str) -> Vec<u8> {
    // 4.1 protocol, secure connection, plugin auth.
    let capabilities: u32 = 0x0000_0200 | 0x0000_8000 | 0x0008_0000 | 0x0000_0001;
    let mut packet = vec![10];
    packet.extend_from_slice(b"8.0.36-keysift-test\0");
    packet.extend_from_slice(&42u32.to_le_bytes());
    packet.extend_from_slice(&SCRAMBLE[..8]);
    packet.push(0);
    packet.extend_from_slice(&(capabilities as u16).to_le_bytes());
    packet.push(255);
    packet.extend_from_slice(&2u16.to_le_bytes());
    packet.extend_from_slice(&((capabilities >> 16) as u16).to_le_bytes());
    packet.push(21);
    packet.extend_from_slice(&[0; 10]);
    packet.extend_from_slice(&SCRAMBLE[8..]);
    packet.push(0);
    packet.extend_from_slice(plugin.as_bytes());
    packet.push(0);
    packet
}

fn ok_packet() -> Vec<u8> {
    vec![0x00, 0, 0, 2, 0, 0, 0]
}

fn access_denied() -> Vec<u8> {
    let mut packet = vec![0xff];
    packet.extend_from_slice(&1045u16.to_le_bytes());
    packet.extend_from_slice(b"#28000Access denied for user");
    packet
}

/// The client's HandshakeResponse41: user, auth response, plugin.
fn parse_response(payload: &[u8]) -> (String, Vec<u8>, String) {
    let mut at = 4 + 4 + 1 + 23;
    let user_end = at + payload[at..].iter().position(|&b| b == 0).unwrap();
    let user = String::from_utf8(payload[at..user_end].to_vec()).unwrap();
    at = user_end + 1;
    let length = payload[at] as usize;
    let auth = payload[at + 1..at + 1 + length].to_vec();
    at += 1 + length;
    let plugin_end = at + payload[at..].iter().position(|&b| b == 0).unwrap();
    let plugin = String::from_utf8(payload[at..plugin_end].to_vec()).unwrap();
    (user, auth, plugin)
}

fn serve(mut stream: TcpStream, mode: Mode, quits: &AtomicUsize) {
    let first_plugin = match mode {
        Mode::Switch => "mysql_native_password",
        _ => "caching_sha2_password",
    };
    write_packet(&mut stream, 0, &greeting(first_plugin));
    let Some((sequence, response)) = read_packet(&mut stream) else {
        return;
    };
    assert_eq!(sequence, 1);
    let (user, auth, plugin) = parse_response(&response);
    assert_eq!(plugin, first_plugin);
    let (auth, scramble, next) = match mode {
        Mode::Switch => {
            let mut switch = vec![0xfe];
            switch.extend_from_slice(b"caching_sha2_password\0");
            switch.extend_from_slice(SWITCHED);
            switch.push(0);
            write_packet(&mut stream, 2, &switch);
            let Some((sequence, auth)) = read_packet(&mut stream) else {
                return;
            };
            assert_eq!(sequence, 3);
            (auth, &SWITCHED[..], 4)
        }
        _ => (auth, &SCRAMBLE[..], 2),
    };
    if user != USER || auth != expected(scramble) {
        return write_packet(&mut stream, next, &access_denied());
    }
    match mode {
        Mode::FullAuth => write_packet(&mut stream, next, &[0x01, 0x04]),
        _ => {
            write_packet(&mut stream, next, &[0x01, 0x03]);
            write_packet(&mut stream, next + 1, &ok_packet());
            // COM_QUIT, a new command.
            if read_packet(&mut stream) == Some((0, vec![0x01])) {
                quits.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// Starts the stand-in; returns its port and how many clients said COM_QUIT after a login.
fn mysqld(mode: Mode) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let quits = Arc::new(AtomicUsize::new(0));
    let counter = quits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counter = counter.clone();
            std::thread::spawn(move || serve(stream, mode, &counter));
        }
    });
    (port, quits)
}

fn verdicts(port: u16) -> Vec<Value> {
    let tree = Tree::new();
    tree.write(
        "app.env",
        format!(
            "DB=mysql://{USER}:{PASSWORD}@127.0.0.1:{port}/shop\n\
             OLD=mysql://{USER}:Wr0ng-Pw5-Zq8vLx1@127.0.0.1:{port}/shop\n"
        ),
    );
    let run = scan_json(tree.path(), &["--verify", "--verify-allow-private"]);
    assert!(!run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD));
    let mut findings = run.json()["findings"].as_array().cloned().unwrap();
    findings.sort_by_key(|f| f["line"].as_u64());
    findings.iter().map(|f| f["verification"].clone()).collect()
}

#[test]
fn caching_sha2_fast_auth_is_live_or_invalid() {
    let (port, quits) = mysqld(Mode::FastAuth);
    let found = verdicts(port);
    assert_eq!(found[0]["status"], "live", "{:?}", found[0]);
    assert_eq!(found[1]["status"], "invalid", "{:?}", found[1]);
    // The stand-in counts the COM_QUIT on its own thread: give it a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while quits.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        quits.load(Ordering::SeqCst),
        1,
        "a live login ends with COM_QUIT"
    );
}

#[test]
fn an_auth_switch_to_caching_sha2_is_followed() {
    let found = verdicts(mysqld(Mode::Switch).0);
    assert_eq!(found[0]["status"], "live", "{:?}", found[0]);
    assert_eq!(found[1]["status"], "invalid", "{:?}", found[1]);
}

#[test]
fn full_authentication_without_tls_is_unknown_with_the_reason() {
    let found = verdicts(mysqld(Mode::FullAuth).0);
    assert_eq!(found[0]["status"], "unknown", "{:?}", found[0]);
    assert!(found[0]["reason"].as_str().unwrap().contains("TLS or RSA"));
    // A wrong scramble is refused before that question arises.
    assert_eq!(found[1]["status"], "invalid", "{:?}", found[1]);
}
