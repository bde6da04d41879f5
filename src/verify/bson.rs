//! The little of BSON (bsonspec.org) a MongoDB login needs: documents of strings, numbers,
//! booleans, binary data and nested documents, written and read. Other element types in a
//! server's answer (timestamps, object ids, dates) are read past and kept as [`Bson::Other`].

/// A value.
#[derive(Debug, Clone, PartialEq)]
pub enum Bson {
    /// 0x01.
    Double(f64),
    /// 0x02, UTF-8.
    String(String),
    /// 0x03 (and 0x04, an array, read as a document keyed "0", "1", ...).
    Document(Document),
    /// 0x05 with subtype 0.
    Binary(Vec<u8>),
    /// 0x08.
    Bool(bool),
    /// 0x0A.
    Null,
    /// 0x10.
    Int32(i32),
    /// 0x12.
    Int64(i64),
    /// Any other type, skipped over.
    Other(u8),
}

/// A document: named values in order.
pub type Document = Vec<(String, Bson)>;

/// The value named `name` in `document`.
pub fn get<'a>(document: &'a Document, name: &str) -> Option<&'a Bson> {
    document.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

impl Bson {
    /// A number of any width, as a float (`ok: 1.0` or `ok: 1`).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Bson::Double(v) => Some(*v),
            Bson::Int32(v) => Some(f64::from(*v)),
            Bson::Int64(v) => Some(*v as f64),
            _ => None,
        }
    }
}

/// The bytes of `document`.
pub fn encode(document: &Document) -> Vec<u8> {
    let mut out = vec![0; 4];
    for (name, value) in document {
        let (kind, body) = match value {
            Bson::Double(v) => (0x01, v.to_le_bytes().to_vec()),
            Bson::String(s) => {
                let mut body = ((s.len() + 1) as i32).to_le_bytes().to_vec();
                body.extend_from_slice(s.as_bytes());
                body.push(0);
                (0x02, body)
            }
            Bson::Document(d) => (0x03, encode(d)),
            Bson::Binary(b) => {
                let mut body = (b.len() as i32).to_le_bytes().to_vec();
                body.push(0);
                body.extend_from_slice(b);
                (0x05, body)
            }
            Bson::Bool(b) => (0x08, vec![u8::from(*b)]),
            Bson::Null | Bson::Other(_) => (0x0A, Vec::new()),
            Bson::Int32(v) => (0x10, v.to_le_bytes().to_vec()),
            Bson::Int64(v) => (0x12, v.to_le_bytes().to_vec()),
        };
        out.push(kind);
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(&body);
    }
    out.push(0);
    let length = (out.len() as i32).to_le_bytes();
    out[..4].copy_from_slice(&length);
    out
}

/// The document at the start of `bytes`, and how many bytes it took.
pub fn decode(bytes: &[u8]) -> Result<(Document, usize), String> {
    let malformed = || "malformed BSON from the server".to_string();
    let length = read_i32(bytes, 0).ok_or_else(malformed)?;
    let length = usize::try_from(length).map_err(|_| malformed())?;
    if length < 5 || length > bytes.len() || bytes[length - 1] != 0 {
        return Err(malformed());
    }
    let body = &bytes[4..length - 1];
    let mut document = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let kind = body[at];
        let name_end = body[at + 1..]
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(malformed)?
            + at
            + 1;
        let name = String::from_utf8_lossy(&body[at + 1..name_end]).into_owned();
        at = name_end + 1;
        let rest = &body[at..];
        let fixed = |n: usize| rest.get(..n).ok_or_else(malformed);
        let (value, used) = match kind {
            0x01 => (
                Bson::Double(f64::from_le_bytes(
                    fixed(8)?.try_into().map_err(|_| malformed())?,
                )),
                8,
            ),
            0x02 => {
                let n = usize::try_from(read_i32(rest, 0).ok_or_else(malformed)?)
                    .map_err(|_| malformed())?;
                let text = rest
                    .get(4..4 + n)
                    .filter(|t| n > 0 && t[n - 1] == 0)
                    .ok_or_else(malformed)?;
                (
                    Bson::String(String::from_utf8_lossy(&text[..n - 1]).into_owned()),
                    4 + n,
                )
            }
            0x03 | 0x04 => {
                let (inner, used) = decode(rest)?;
                (Bson::Document(inner), used)
            }
            0x05 => {
                let n = usize::try_from(read_i32(rest, 0).ok_or_else(malformed)?)
                    .map_err(|_| malformed())?;
                let data = rest.get(5..5 + n).ok_or_else(malformed)?;
                (Bson::Binary(data.to_vec()), 5 + n)
            }
            0x08 => (Bson::Bool(fixed(1)?[0] != 0), 1),
            0x0A => (Bson::Null, 0),
            0x10 => (Bson::Int32(read_i32(rest, 0).ok_or_else(malformed)?), 4),
            0x12 => (
                Bson::Int64(i64::from_le_bytes(
                    fixed(8)?.try_into().map_err(|_| malformed())?,
                )),
                8,
            ),
            // Timestamp, datetime: 8 bytes; object id: 12.
            0x11 | 0x09 => (Bson::Other(kind), fixed(8).map(|_| 8)?),
            0x07 => (Bson::Other(kind), fixed(12).map(|_| 12)?),
            other => return Err(format!("BSON type {other:#04x} is not supported")),
        };
        document.push((name, value));
        at += used;
    }
    Ok((document, length))
}

fn read_i32(bytes: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The specification's own example: {"hello": "world"}.
    #[test]
    fn encodes_the_specification_example() {
        let document = vec![("hello".to_string(), Bson::String("world".into()))];
        assert_eq!(
            encode(&document),
            b"\x16\x00\x00\x00\x02hello\x00\x06\x00\x00\x00world\x00\x00"
        );
    }

    #[test]
    fn round_trips_and_skips_what_it_does_not_model() {
        let document: Document = vec![
            ("saslStart".into(), Bson::Int32(1)),
            ("payload".into(), Bson::Binary(b"n,,n=u,r=x".to_vec())),
            ("ok".into(), Bson::Double(1.0)),
            ("done".into(), Bson::Bool(false)),
            ("big".into(), Bson::Int64(-5)),
            (
                "nested".into(),
                Bson::Document(vec![("$db".into(), Bson::String("admin".into()))]),
            ),
        ];
        let bytes = encode(&document);
        let (back, used) = decode(&bytes).unwrap();
        assert_eq!((back, used), (document, bytes.len()));
        // A timestamp (0x11) between known fields is read past.
        let mut with_timestamp = b"\x1a\x00\x00\x00\x11t\x00".to_vec();
        with_timestamp.extend_from_slice(&[1, 0, 0, 0, 2, 0, 0, 0]);
        with_timestamp.extend_from_slice(b"\x10ok\x00\x01\x00\x00\x00\x00");
        with_timestamp[0] = with_timestamp.len() as u8;
        let (doc, _) = decode(&with_timestamp).unwrap();
        assert_eq!(get(&doc, "ok").and_then(Bson::as_f64), Some(1.0));
    }

    #[test]
    fn malformed_documents_are_errors() {
        assert!(decode(b"").is_err());
        assert!(decode(b"\x05\x00\x00\x00\x01").is_err());
        assert!(decode(b"\xff\x00\x00\x00\x00").is_err());
        assert!(decode(b"\x0c\x00\x00\x00\x02a\x00\xff\x00\x00\x00\x00").is_err());
        assert!(decode(b"\x08\x00\x00\x00\x13a\x00\x00").is_err());
    }
}
