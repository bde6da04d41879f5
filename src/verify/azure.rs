//! The Azure Storage check: the account's Blob service properties (`GET
//! /?restype=service&comp=properties`), signed with the account key under the Shared Key
//! scheme. Only the account owner's key may read them, they change nothing, and they hold no
//! data.
//!
//! The string to sign follows Microsoft's "Authorize with Shared Key" page for the Blob service
//! (version 2009-09-19 and later): the verb, eleven standard headers (all empty here), the
//! `x-ms-` headers sorted by name, and the canonicalized resource (`/account/path` and the
//! query parameters sorted by name, one per line).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;

use crate::time::civil_from_days;

use super::{
    aws::hmac,
    check::Method,
    client::{Answer, Prepared},
    Check, Context, Values, Verdict, Verification,
};

/// The check: the account key is the secret, `account` the connection string's AccountName.
pub struct StorageSharedKey;

impl Check for StorageSharedKey {
    fn endpoint(&self) -> Option<(&str, &str)> {
        Some(("azure-storage", BLOB_BASE))
    }

    fn needs(&self) -> Vec<String> {
        vec!["account".to_string()]
    }

    fn verify(&self, values: &Values, context: &Context<'_>) -> Result<Verification, String> {
        let account = values.get("account").ok_or("no account name")?;
        let request = service_properties_request(context.base, account, &values.secret)?;
        context.over_http(request, |answer| judge(answer, account))
    }
}

/// The Blob service of an account in Azure's public cloud; `{account}` is the account name.
pub const BLOB_BASE: &str = "https://{account}.blob.core.windows.net";
/// The storage REST API version the request speaks.
const API_VERSION: &str = "2021-08-06";
/// The read-only request: the service's properties (logging, CORS, metrics settings).
const QUERY: [(&str, &str); 2] = [("comp", "properties"), ("restype", "service")];

/// The signed request for `account` with its base64 `key`, sent to `base` (the account's Blob
/// endpoint, or a user-configured stand-in).
pub fn service_properties_request(
    base: &str,
    account: &str,
    key: &str,
) -> Result<Prepared, String> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(key)
        .map_err(|_| "the account key is not base64")?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let date = http_date(now);
    let ms_headers = [("x-ms-date", date.as_str()), ("x-ms-version", API_VERSION)];
    let to_sign = string_to_sign("GET", account, "/", &QUERY, &ms_headers);
    let signature =
        base64::engine::general_purpose::STANDARD.encode(hmac(&key, to_sign.as_bytes()));
    let query: Vec<String> = QUERY.iter().map(|(n, v)| format!("{n}={v}")).collect();
    Ok(Prepared {
        method: Method::Get,
        url: format!(
            "{}/?{}",
            base.replace("{account}", &account.to_ascii_lowercase())
                .trim_end_matches('/'),
            query.join("&")
        ),
        headers: vec![
            ("x-ms-date".to_string(), date),
            ("x-ms-version".to_string(), API_VERSION.to_string()),
            (
                "Authorization".to_string(),
                format!("SharedKey {account}:{signature}"),
            ),
        ],
        body: None,
    })
}

/// The Shared Key string to sign for a request without body or standard headers.
pub fn string_to_sign(
    verb: &str,
    account: &str,
    path: &str,
    query: &[(&str, &str)],
    ms_headers: &[(&str, &str)],
) -> String {
    // Content-Encoding, -Language, -Length, -MD5, -Type, Date, If-Modified-Since, If-Match,
    // If-None-Match, If-Unmodified-Since, Range: none is sent, so eleven empty lines.
    let mut out = format!("{verb}\n{}", "\n".repeat(11));
    let mut headers: Vec<(String, &str)> = ms_headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim()))
        .collect();
    headers.sort();
    for (name, value) in headers {
        out.push_str(&format!("{name}:{value}\n"));
    }
    out.push_str(&format!("/{account}{path}"));
    let mut parameters: Vec<(String, &str)> = query
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), *value))
        .collect();
    parameters.sort();
    for (name, value) in parameters {
        out.push_str(&format!("\n{name}:{value}"));
    }
    out
}

/// What the service's answer means: 200 is live; 403 `AuthenticationFailed` (the signature
/// does not match the account's keys) is invalid.
pub fn judge(answer: &Answer, account: &str) -> Verification {
    let body = String::from_utf8_lossy(&answer.body);
    let status = match answer.status {
        200 => Verdict::Live,
        403 if body.contains("<Code>AuthenticationFailed</Code>") => Verdict::Invalid,
        _ => Verdict::Unknown,
    };
    Verification {
        status,
        identity: (status == Verdict::Live).then(|| format!("storage account {account}")),
        reason: (status == Verdict::Unknown)
            .then(|| format!("the storage service answered {}", answer.status)),
    }
}

/// An RFC 1123 date (`Sun, 06 Nov 1994 08:49:37 GMT`), as `x-ms-date` wants it.
pub fn http_date(unix_seconds: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_seconds / 86_400;
    let seconds = unix_seconds % 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[month as usize - 1],
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc_1123() {
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    /// Written out by hand from Microsoft's format: verb, eleven empty standard headers, the
    /// x-ms- headers sorted, the resource with its parameters sorted and lowercased.
    #[test]
    fn the_string_to_sign_follows_the_documented_layout() {
        let to_sign = string_to_sign(
            "GET",
            "myaccount",
            "/",
            &[("restype", "service"), ("comp", "properties")],
            &[
                ("x-ms-version", "2021-08-06"),
                ("x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT"),
            ],
        );
        assert_eq!(
            to_sign,
            "GET\n\n\n\n\n\n\n\n\n\n\n\n\
             x-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\n\
             x-ms-version:2021-08-06\n\
             /myaccount/\ncomp:properties\nrestype:service"
        );
        // HMAC-SHA256 of that string under the key bytes 0..32, computed independently
        // (Python's hmac module), base64.
        let key: Vec<u8> = (0u8..32).collect();
        assert_eq!(
            base64::engine::general_purpose::STANDARD.encode(hmac(&key, to_sign.as_bytes())),
            EXPECTED_SIGNATURE
        );
    }

    const EXPECTED_SIGNATURE: &str = "1tclh+5oGKqBUbzy8IKInErxfIszIpaYbBJrFv3vExE=";

    #[test]
    fn the_request_names_the_account_and_signs_with_the_key() {
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
        let request = service_properties_request(BLOB_BASE, "AcmeLogs01", &key).unwrap();
        assert_eq!(
            request.url,
            "https://acmelogs01.blob.core.windows.net/?comp=properties&restype=service"
        );
        let authorization = &request.headers[2].1;
        assert!(
            authorization.starts_with("SharedKey AcmeLogs01:"),
            "{authorization}"
        );
        assert!(service_properties_request(BLOB_BASE, "a", "not base64!").is_err());
    }

    #[test]
    fn service_answers_are_read() {
        let answer = |status, body: &str| Answer {
            status,
            body: body.as_bytes().to_vec(),
            location: None,
        };
        assert_eq!(
            judge(&answer(200, "<StorageServiceProperties/>"), "a").status,
            Verdict::Live
        );
        let failed = "<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code><Message>x</Message></Error>";
        assert_eq!(judge(&answer(403, failed), "a").status, Verdict::Invalid);
        let other = "<Error><Code>AuthorizationPermissionMismatch</Code></Error>";
        assert_eq!(judge(&answer(403, other), "a").status, Verdict::Unknown);
    }
}
