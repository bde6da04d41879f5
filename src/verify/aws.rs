//! The AWS check: STS `GetCallerIdentity` signed with Signature Version 4. The call needs no
//! permission (it succeeds for any valid key pair), changes nothing, and its answer names the
//! identity (the ARN).
//!
//! The signer is written from AWS's description of Signature Version 4 and tested against its
//! published examples.

use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::{hex::hex, time::civil_from_days};

use super::{
    check::Method,
    client::{Answer, Prepared},
    Verdict, Verification,
};

/// STS's global endpoint; the signing region for it is `us-east-1`.
pub const STS_BASE: &str = "https://sts.amazonaws.com";
const STS_BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// What a request signature covers.
pub struct ToSign<'a> {
    /// `GET`, `POST`.
    pub method: &'a str,
    /// The URI path, already encoded.
    pub path: &'a str,
    /// The canonical query string (sorted, encoded), often empty.
    pub query: &'a str,
    /// Headers to sign: lowercase names, values as sent.
    pub headers: &'a [(&'a str, &'a str)],
    /// The payload.
    pub payload: &'a [u8],
    /// `YYYYMMDDTHHMMSSZ`.
    pub amz_date: &'a str,
    /// `us-east-1`.
    pub region: &'a str,
    /// `sts`, `s3`.
    pub service: &'a str,
}

/// The `Authorization` header for `request` under the key pair.
pub fn authorization(request: &ToSign<'_>, key_id: &str, secret_key: &str) -> String {
    let mut headers: Vec<(&str, String)> = request
        .headers
        .iter()
        .map(|(name, value)| {
            (
                *name,
                value.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect();
    headers.sort();
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let signed_headers = headers
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        request.method,
        request.path,
        request.query,
        hex(&Sha256::digest(request.payload))
    );
    let date = &request.amz_date[..8];
    let scope = format!("{date}/{}/{}/aws4_request", request.region, request.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        request.amz_date,
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{secret_key}").as_bytes(), date.as_bytes());
    for part in [request.region, request.service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex(&hmac(&key, string_to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={key_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}

/// The signed `GetCallerIdentity` request to `base` (STS, or a stand-in for tests).
pub fn caller_identity_request(base: &str, key_id: &str, secret_key: &str) -> Prepared {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let amz_date = amz_date(now);
    let host = base
        .split("://")
        .nth(1)
        .unwrap_or(base)
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let headers = [
        ("content-type", FORM),
        ("host", host.as_str()),
        ("x-amz-date", amz_date.as_str()),
    ];
    let signature = authorization(
        &ToSign {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            payload: STS_BODY.as_bytes(),
            amz_date: &amz_date,
            region: "us-east-1",
            service: "sts",
        },
        key_id,
        secret_key,
    );
    Prepared {
        method: Method::Post,
        url: format!("{}/", base.trim_end_matches('/')),
        headers: vec![
            ("Content-Type".to_string(), FORM.to_string()),
            ("X-Amz-Date".to_string(), amz_date),
            ("Authorization".to_string(), signature),
        ],
        body: Some(STS_BODY.to_string()),
    }
}

/// What STS's answer means: 200 names the ARN; 403 with an error code about the key or the
/// signature means the pair does not work.
pub fn judge(answer: &Answer) -> Verification {
    let body = String::from_utf8_lossy(&answer.body);
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find(&format!("</{name}>"))? + start;
        Some(body[start..end].to_string())
    };
    match answer.status {
        200 => Verification {
            status: Verdict::Live,
            identity: element("Arn"),
            reason: None,
        },
        403 if element("Code").is_some_and(|code| {
            matches!(
                code.as_str(),
                "InvalidClientTokenId" | "SignatureDoesNotMatch" | "ExpiredToken"
            )
        }) =>
        {
            Verification {
                status: Verdict::Invalid,
                identity: None,
                reason: None,
            }
        }
        status => Verification {
            status: Verdict::Unknown,
            identity: None,
            reason: Some(match element("Code") {
                Some(code) => format!("STS answered {status} ({code})"),
                None => format!("STS answered {status}"),
            }),
        },
    }
}

/// `YYYYMMDDTHHMMSSZ` for a Unix time.
pub fn amz_date(unix_seconds: u64) -> String {
    let days = (unix_seconds / 86_400) as i64;
    let seconds = unix_seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// HMAC-SHA256 (RFC 2104) over SHA-256's 64-byte blocks.
pub(super) fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documentation's example key pair (not a credential).
    const KEY_ID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        assert_eq!(
            hex(&hmac(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    /// `get-vanilla` from the AWS Signature Version 4 test suite.
    #[test]
    fn signs_the_get_vanilla_vector() {
        let headers = [
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
        ];
        let header = authorization(
            &ToSign {
                method: "GET",
                path: "/",
                query: "",
                headers: &headers,
                payload: b"",
                amz_date: "20150830T123600Z",
                region: "us-east-1",
                service: "service",
            },
            KEY_ID,
            SECRET,
        );
        assert_eq!(
            header,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    /// The GET Object example of the S3 documentation's header-based authentication page.
    #[test]
    fn signs_the_s3_get_object_example() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let headers = [
            ("host", "examplebucket.s3.amazonaws.com"),
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", empty),
            ("x-amz-date", "20130524T000000Z"),
        ];
        let header = authorization(
            &ToSign {
                method: "GET",
                path: "/test.txt",
                query: "",
                headers: &headers,
                payload: b"",
                amz_date: "20130524T000000Z",
                region: "us-east-1",
                service: "s3",
            },
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        );
        assert!(
            header.ends_with(
                "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
            ),
            "{header}"
        );
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
        assert_eq!(amz_date(0), "19700101T000000Z");
    }

    #[test]
    fn sts_answers_are_read() {
        let answer = |status, body: &str| Answer {
            status,
            body: body.as_bytes().to_vec(),
            location: None,
        };
        let live = judge(&answer(
            200,
            "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>",
        ));
        assert_eq!(live.status, Verdict::Live);
        assert_eq!(
            live.identity.as_deref(),
            Some("arn:aws:iam::123456789012:user/ci")
        );
        let invalid = judge(&answer(
            403,
            "<ErrorResponse><Error><Code>InvalidClientTokenId</Code></Error></ErrorResponse>",
        ));
        assert_eq!(invalid.status, Verdict::Invalid);
        let other = judge(&answer(403, "<Error><Code>AccessDenied</Code></Error>"));
        assert_eq!(other.status, Verdict::Unknown);
    }
}
