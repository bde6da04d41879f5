//! Database logins from connection URIs: connect, authenticate, disconnect. Nothing is read or
//! written; the server only learns that someone logged in.
//!
//! * PostgreSQL: the startup message, then SCRAM-SHA-256 (RFC 5802/7677), MD5 or cleartext
//!   password authentication, as the server asks; `AuthenticationOk` is live, SQLSTATE 28P01
//!   (invalid password) is invalid. Plain TCP only: a server that insists on TLS gives
//!   "unknown".
//! * Redis: `AUTH [user] password`; `+OK` is live, `WRONGPASS` or "invalid password" invalid.
//! * MySQL and MariaDB: the handshake and a password login (see [`super::mysql`]).
//! * MongoDB: SCRAM-SHA-256 or SCRAM-SHA-1 in OP_MSG (see [`super::mongo`]); `mongodb+srv://` URIs, whose
//!   servers are in DNS SRV records, are not resolved and give "unknown".
//!
//! The server's address comes from the secret itself, so it is resolved and refused when it
//! is private, loopback or link-local (see [`crate::net::resolve_public`]) unless the user
//! allowed that (`--verify-allow-private`).

use std::{
    io::{Read, Write},
    net::TcpStream,
};

use sha2::Digest as _;

use crate::hex::hex;

use super::{scram::ScramClient, Context, Values, Verdict, Verification};

/// Which database protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    /// PostgreSQL (default port 5432).
    Postgres,
    /// Redis (default port 6379).
    Redis,
    /// MySQL and MariaDB (default port 3306; see [`super::mysql`]).
    MySql,
    /// MongoDB (default port 27017; see [`super::mongo`]).
    MongoDb,
}

/// The largest protocol message read from a server.
const MAX_MESSAGE: usize = 64 * 1024;

impl Database {
    /// Logs in with the URI's parts (`user`, `secret`, `host`, optional `port`).
    pub fn verify(self, values: &Values, context: &Context<'_>) -> Result<Verification, String> {
        if values.get("srv").is_some() {
            return Err("mongodb+srv:// names its servers in DNS SRV records, which keysift does not look up; check the servers with a mongodb:// URI".into());
        }
        let (host, port) = self.address(values)?;
        let user = percent_decode(values.get("user").unwrap_or_default());
        let password = percent_decode(&values.secret);
        let address = crate::net::resolve_public(&host, port, context.options.allow_private)?;
        let timeout = context.options.timeout;
        let mut stream = TcpStream::connect_timeout(&address, timeout)
            .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
        stream.set_read_timeout(Some(timeout)).ok();
        stream.set_write_timeout(Some(timeout)).ok();
        let verdict = match self {
            Database::Postgres => postgres_login(&mut stream, &user, &password),
            Database::Redis => redis_login(&mut stream, &user, &password),
            Database::MySql => super::mysql::login(&mut stream, &user, &password),
            Database::MongoDb => {
                // The authentication database: authSource, else the URI's database, else admin.
                let auth_db = values
                    .get("auth_source")
                    .or(values.get("database"))
                    .filter(|db| !db.is_empty())
                    .map_or("admin".to_string(), percent_decode);
                super::mongo::login(&mut stream, &user, &password, &auth_db)
            }
        };
        verdict.map(|status| Verification {
            status,
            identity: (status == Verdict::Live).then(|| format!("{user}@{host}:{port}")),
            reason: None,
        })
    }

    /// The server to log in to: the `host` and `port` groups, or for MongoDB the first of the
    /// URI's `host:port` list.
    fn address(self, values: &Values) -> Result<(String, u16), String> {
        let host = percent_decode(values.get("host").ok_or("no host in the URI")?);
        let (host, port) = match self {
            Database::MongoDb => {
                let first = host.split(',').next().unwrap_or_default();
                match first.split_once(':') {
                    Some((host, port)) => (host.to_string(), Some(port.to_string())),
                    None => (first.to_string(), None),
                }
            }
            _ => (host, values.get("port").map(str::to_string)),
        };
        let default_port = match self {
            Database::Postgres => 5432,
            Database::Redis => 6379,
            Database::MySql => 3306,
            Database::MongoDb => 27017,
        };
        let port = match port {
            Some(port) => port.parse().map_err(|_| "bad port in the URI")?,
            None => default_port,
        };
        Ok((host, port))
    }
}

/// `%23` → `#`: URIs percent-encode reserved characters in user names and passwords.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let digit = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (digit(bytes[i + 1]), digit(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

fn postgres_login(stream: &mut TcpStream, user: &str, password: &str) -> Result<Verdict, String> {
    // StartupMessage: length, protocol 3.0, then name/value pairs.
    let mut body = 196_608u32.to_be_bytes().to_vec();
    for (name, value) in [("user", user), ("database", "postgres")] {
        body.extend_from_slice(name.as_bytes());
        body.push(0);
        body.extend_from_slice(value.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut startup = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    startup.extend_from_slice(&body);
    stream.write_all(&startup).map_err(io_error)?;

    let mut scram: Option<ScramClient> = None;
    loop {
        let (kind, payload) = read_pg_message(stream)?;
        match kind {
            b'R' => {
                let code = be_u32(&payload, 0)?;
                match code {
                    0 => {
                        // AuthenticationOk: the password works. Say goodbye politely.
                        let _ = stream.write_all(&[b'X', 0, 0, 0, 4]);
                        return Ok(Verdict::Live);
                    }
                    3 => send_pg(stream, b'p', &cstring(password))?,
                    5 => {
                        let salt = payload.get(4..8).ok_or("short MD5 request")?;
                        let inner = hex(&md5::Md5::digest(format!("{password}{user}")));
                        let mut outer = md5::Md5::new();
                        outer.update(inner.as_bytes());
                        outer.update(salt);
                        let answer = format!("md5{}", hex(&outer.finalize()));
                        send_pg(stream, b'p', &cstring(&answer))?;
                    }
                    10 => {
                        let mechanisms = String::from_utf8_lossy(&payload[4..]);
                        if !mechanisms.split('\0').any(|m| m == "SCRAM-SHA-256") {
                            return Err(format!(
                                "the server offers only {} (needs TLS channel binding)",
                                mechanisms.replace('\0', " ").trim()
                            ));
                        }
                        // PostgreSQL takes the user from the startup message: the SCRAM user
                        // name is left empty.
                        let client = ScramClient::new("");
                        let first = client.first_message();
                        let mut message = cstring("SCRAM-SHA-256");
                        message.extend_from_slice(&(first.len() as u32).to_be_bytes());
                        message.extend_from_slice(first.as_bytes());
                        send_pg(stream, b'p', &message)?;
                        scram = Some(client);
                    }
                    11 => {
                        let client = scram.as_mut().ok_or("SCRAM continue out of order")?;
                        let server_first = String::from_utf8_lossy(&payload[4..]).into_owned();
                        let last = client.final_message(&server_first, password)?;
                        send_pg(stream, b'p', last.as_bytes())?;
                    }
                    12 => {} // SCRAM final (server signature); AuthenticationOk follows.
                    other => return Err(format!("unsupported authentication method {other}")),
                }
            }
            b'E' => {
                let code = error_field(&payload, b'C').unwrap_or_default();
                return match code.as_str() {
                    "28P01" => Ok(Verdict::Invalid),
                    _ => Err(format!("the server refused the login (SQLSTATE {code})")),
                };
            }
            // Notices and parameter status may come before authentication ends.
            b'N' | b'S' => {}
            other => return Err(format!("unexpected message {:?}", other as char)),
        }
    }
}

fn read_pg_message(stream: &mut TcpStream) -> Result<(u8, Vec<u8>), String> {
    let mut head = [0u8; 5];
    stream.read_exact(&mut head).map_err(io_error)?;
    let length = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if !(4..=MAX_MESSAGE).contains(&length) {
        return Err("malformed message from the server".into());
    }
    let mut payload = vec![0; length - 4];
    stream.read_exact(&mut payload).map_err(io_error)?;
    Ok((head[0], payload))
}

fn send_pg(stream: &mut TcpStream, kind: u8, payload: &[u8]) -> Result<(), String> {
    let mut message = vec![kind];
    message.extend_from_slice(&((payload.len() + 4) as u32).to_be_bytes());
    message.extend_from_slice(payload);
    stream.write_all(&message).map_err(io_error)
}

fn error_field(payload: &[u8], field: u8) -> Option<String> {
    let mut rest = payload;
    while let Some((&kind, after)) = rest.split_first() {
        if kind == 0 {
            break;
        }
        let end = after.iter().position(|&b| b == 0)?;
        if kind == field {
            return Some(String::from_utf8_lossy(&after[..end]).into_owned());
        }
        rest = &after[end + 1..];
    }
    None
}

fn be_u32(bytes: &[u8], at: usize) -> Result<u32, String> {
    let b = bytes.get(at..at + 4).ok_or("short message")?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn cstring(text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    bytes.push(0);
    bytes
}

fn io_error(e: std::io::Error) -> String {
    format!("connection: {e}")
}

// ---------------------------------------------------------------------------------------------
// Redis

fn redis_login(stream: &mut TcpStream, user: &str, password: &str) -> Result<Verdict, String> {
    let mut words = vec!["AUTH"];
    // Redis 6 ACL users; a URI without a user name (`redis://:pw@host`) is the default user.
    if !user.is_empty() {
        words.push(user);
    }
    words.push(password);
    let mut command = format!("*{}\r\n", words.len());
    for word in &words {
        command.push_str(&format!("${}\r\n{word}\r\n", word.len()));
    }
    stream.write_all(command.as_bytes()).map_err(io_error)?;
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while reply.len() < 1024 {
        stream.read_exact(&mut byte).map_err(io_error)?;
        if byte[0] == b'\n' {
            break;
        }
        reply.push(byte[0]);
    }
    let _ = stream.write_all(b"*1\r\n$4\r\nQUIT\r\n");
    let reply = String::from_utf8_lossy(&reply).trim_end().to_string();
    if reply == "+OK" {
        return Ok(Verdict::Live);
    }
    let lower = reply.to_ascii_lowercase();
    if lower.starts_with("-wrongpass") || lower.contains("invalid password") {
        return Ok(Verdict::Invalid);
    }
    if lower.contains("without any password configured") {
        return Err("the server has no password: anyone can connect".into());
    }
    Err(format!(
        "unexpected reply {:?}",
        reply.chars().take(80).collect::<String>()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mongodb_uris_name_their_first_server() {
        let values = |host: &str| Values {
            secret: "pw".into(),
            named: vec![("host".into(), host.into())],
        };
        let first = Database::MongoDb.address(&values("mongo-0:27018,mongo-1:27017"));
        assert_eq!(first.unwrap(), ("mongo-0".to_string(), 27018));
        let bare = Database::MongoDb.address(&values("db.example.com"));
        assert_eq!(bare.unwrap(), ("db.example.com".to_string(), 27017));
        assert!(Database::MongoDb.address(&values("db:http")).is_err());
        let postgres = Database::Postgres.address(&values("db.example.com"));
        assert_eq!(postgres.unwrap().1, 5432);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("Winter%23Rain71"), "Winter#Rain71");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
