//! The MongoDB login: SCRAM (`saslStart`, `saslContinue`) in OP_MSG messages, against the URI's
//! authentication database. Nothing is read; the connection is closed after the answer.
//!
//! The mechanism is negotiated as drivers do: `hello` with `saslSupportedMechs` names the
//! mechanisms the user has credentials for. SCRAM-SHA-256 is preferred; SCRAM-SHA-1 (whose
//! password is MD5(`user:mongo:password`) in hex) is used for users that only have it, so that
//! such a user is never judged invalid for the wrong mechanism.
//!
//! The server's final SCRAM message is checked too: a server that accepts the proof without
//! proving it knows the password is not believed. `AuthenticationFailed` (code 18, which is
//! also what an unknown user gets) is invalid; a server without SCRAM-SHA-256 (MongoDB before
//! 4.0, or a user created for SCRAM-SHA-1 only) is unknown, with the reason.

use std::{
    io::{Read, Write},
    net::TcpStream,
};

use md5::Digest as _;

use super::{
    bson::{self, Bson, Document},
    scram::{ScramClient, ScramHash},
    Verdict,
};

/// OP_MSG.
const OP_MSG: i32 = 2013;
/// The largest answer read (logins need a few hundred bytes).
const MAX_MESSAGE: usize = 1024 * 1024;
/// `AuthenticationFailed`.
const AUTHENTICATION_FAILED: i64 = 18;

/// Logs in as `user` with `password` against database `auth_db` on a connected `stream`.
pub fn login(
    stream: &mut TcpStream,
    user: &str,
    password: &str,
    auth_db: &str,
) -> Result<Verdict, String> {
    let mut connection = Connection {
        stream,
        request_id: 0,
    };
    let text = |s: &str| Bson::String(s.to_string());
    let hash = mechanism(&mut connection, user, auth_db)?;
    let (name, password) = match hash {
        ScramHash::Sha256 => ("SCRAM-SHA-256", password.to_string()),
        ScramHash::Sha1 => {
            let digest = md5::Md5::digest(format!("{user}:mongo:{password}"));
            ("SCRAM-SHA-1", crate::hex::hex(&digest))
        }
    };
    let password = password.as_str();
    let mut scram = ScramClient::with_hash(hash, user);
    let reply = connection.command(vec![
        ("saslStart".into(), Bson::Int32(1)),
        ("mechanism".into(), text(name)),
        (
            "payload".into(),
            Bson::Binary(scram.first_message().into_bytes()),
        ),
        ("autoAuthorize".into(), Bson::Int32(1)),
        (
            "options".into(),
            Bson::Document(vec![("skipEmptyExchange".into(), Bson::Bool(true))]),
        ),
        ("$db".into(), text(auth_db)),
    ])?;
    if let Some(verdict) = failure(&reply)? {
        return Ok(verdict);
    }
    let conversation = bson::get(&reply, "conversationId")
        .cloned()
        .ok_or("the server's answer has no conversationId")?;
    let server_first = payload(&reply)?;
    let client_final = scram.final_message(&server_first, password)?;
    let mut next = client_final.into_bytes();
    // The proof, then (for servers that ignore skipEmptyExchange) one empty round.
    for _ in 0..2 {
        let reply = connection.command(vec![
            ("saslContinue".into(), Bson::Int32(1)),
            ("conversationId".into(), conversation.clone()),
            ("payload".into(), Bson::Binary(std::mem::take(&mut next))),
            ("$db".into(), text(auth_db)),
        ])?;
        if let Some(verdict) = failure(&reply)? {
            return Ok(verdict);
        }
        let server_final = payload(&reply)?;
        if !server_final.is_empty() && !scram.server_is_genuine(&server_final) {
            return Err("the server's SCRAM signature is wrong: not believed".into());
        }
        if matches!(bson::get(&reply, "done"), Some(Bson::Bool(true))) {
            return Ok(Verdict::Live);
        }
    }
    Err("the server did not finish the login".into())
}

/// The SCRAM hash to log in with: what `hello` says the user has, SHA-256 first. A server that
/// does not say (an unknown user, an old server) is tried with SCRAM-SHA-256.
fn mechanism(
    connection: &mut Connection<'_>,
    user: &str,
    auth_db: &str,
) -> Result<ScramHash, String> {
    let reply = connection.command(vec![
        ("hello".into(), Bson::Int32(1)),
        (
            "saslSupportedMechs".into(),
            Bson::String(format!("{auth_db}.{user}")),
        ),
        ("$db".into(), Bson::String("admin".into())),
    ])?;
    let Some(Bson::Document(list)) = bson::get(&reply, "saslSupportedMechs") else {
        return Ok(ScramHash::Sha256);
    };
    let names: Vec<&str> = list
        .iter()
        .filter_map(|(_, v)| match v {
            Bson::String(name) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    if names.contains(&"SCRAM-SHA-256") {
        Ok(ScramHash::Sha256)
    } else if names.contains(&"SCRAM-SHA-1") {
        Ok(ScramHash::Sha1)
    } else {
        Err(format!(
            "the user logs in with {}, not a password mechanism keysift speaks",
            names.join(", ")
        ))
    }
}

/// `None` for `ok: 1`; invalid for `AuthenticationFailed`; an error otherwise.
fn failure(reply: &Document) -> Result<Option<Verdict>, String> {
    let ok = bson::get(reply, "ok").and_then(Bson::as_f64).unwrap_or(0.0);
    if ok == 1.0 {
        return Ok(None);
    }
    let code = bson::get(reply, "code")
        .and_then(Bson::as_f64)
        .unwrap_or(0.0) as i64;
    if code == AUTHENTICATION_FAILED {
        return Ok(Some(Verdict::Invalid));
    }
    let name = match bson::get(reply, "codeName") {
        Some(Bson::String(name)) => name.clone(),
        _ => "no code name".to_string(),
    };
    Err(format!(
        "the server refused the login (code {code}, {name})"
    ))
}

fn payload(reply: &Document) -> Result<String, String> {
    match bson::get(reply, "payload") {
        Some(Bson::Binary(bytes)) => Ok(String::from_utf8_lossy(bytes).into_owned()),
        _ => Err("the server's answer has no SCRAM payload".into()),
    }
}

/// OP_MSG framing: a 16-byte header, flag bits, then one body section (kind 0).
struct Connection<'a> {
    stream: &'a mut TcpStream,
    request_id: i32,
}

impl Connection<'_> {
    fn command(&mut self, command: Document) -> Result<Document, String> {
        self.request_id += 1;
        let body = bson::encode(&command);
        let length = 16 + 4 + 1 + body.len();
        let mut message = Vec::with_capacity(length);
        message.extend_from_slice(&(length as i32).to_le_bytes());
        message.extend_from_slice(&self.request_id.to_le_bytes());
        message.extend_from_slice(&0i32.to_le_bytes());
        message.extend_from_slice(&OP_MSG.to_le_bytes());
        message.extend_from_slice(&0u32.to_le_bytes());
        message.push(0);
        message.extend_from_slice(&body);
        self.stream.write_all(&message).map_err(io_error)?;

        let mut header = [0u8; 16];
        self.stream.read_exact(&mut header).map_err(io_error)?;
        let field =
            |i: usize| i32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
        let length = usize::try_from(field(0)).unwrap_or(0);
        if !(21..=MAX_MESSAGE).contains(&length) || field(12) != OP_MSG {
            return Err("the server's answer is not an OP_MSG reply".into());
        }
        let mut rest = vec![0u8; length - 16];
        self.stream.read_exact(&mut rest).map_err(io_error)?;
        // Flag bits, then sections; the body (kind 0) is the answer.
        if rest[4] != 0 {
            return Err("the server's answer has no body section first".into());
        }
        bson::decode(&rest[5..]).map(|(document, _)| document)
    }
}

fn io_error(e: std::io::Error) -> String {
    format!("connection: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(fields: Vec<(&str, Bson)>) -> Document {
        fields
            .into_iter()
            .map(|(n, v)| (n.to_string(), v))
            .collect()
    }

    #[test]
    fn failures_are_read() {
        assert_eq!(
            failure(&reply(vec![("ok", Bson::Double(1.0))])).unwrap(),
            None
        );
        let denied = reply(vec![
            ("ok", Bson::Double(0.0)),
            ("errmsg", Bson::String("Authentication failed.".into())),
            ("code", Bson::Int32(18)),
            ("codeName", Bson::String("AuthenticationFailed".into())),
        ]);
        assert_eq!(failure(&denied).unwrap(), Some(Verdict::Invalid));
        let unavailable = reply(vec![
            ("ok", Bson::Double(0.0)),
            ("code", Bson::Int32(334)),
            ("codeName", Bson::String("MechanismUnavailable".into())),
        ]);
        assert!(failure(&unavailable)
            .unwrap_err()
            .contains("MechanismUnavailable"));
    }
}
