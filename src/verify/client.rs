//! The HTTP side of verification: one shared client with timeouts, no redirects, a minimum
//! interval between requests to the same host, and retries on 429 and 5xx that honour
//! `Retry-After`.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use super::check::Method;

/// Attempts per request when the provider throttles or fails.
const ATTEMPTS: u32 = 3;
/// The longest `Retry-After` waited for; longer means "unknown, try later".
const MAX_RETRY_WAIT: Duration = Duration::from_secs(10);
/// The largest answer read.
const MAX_BODY: u64 = 1024 * 1024;

/// A request ready to send (all templates rendered).
pub struct Prepared {
    /// The method.
    pub method: Method,
    /// The full URL.
    pub url: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body, for `POST`.
    pub body: Option<String>,
}

/// What came back.
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The body, up to [`MAX_BODY`] bytes.
    pub body: Vec<u8>,
    /// Where a redirect pointed (never followed).
    pub location: Option<String>,
}

/// The shared client.
pub struct Client {
    agent: ureq::Agent,
    /// Per host, the earliest moment the next request may start.
    next_slot: Mutex<HashMap<String, Instant>>,
    interval: Duration,
}

impl Client {
    /// A client whose requests each take at most `timeout`, and that starts requests to one
    /// host at least `interval` apart.
    pub fn new(timeout: Duration, interval: Duration) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A redirect is an answer to report, never a hop to another host with the secret.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_global(Some(timeout))
            .user_agent(concat!(
                "keysift/",
                env!("CARGO_PKG_VERSION"),
                " (verification)"
            ))
            .build()
            .into();
        Client {
            agent,
            next_slot: Mutex::new(HashMap::new()),
            interval,
        }
    }

    /// Sends `request`, retrying throttled and failed attempts. The error text is the
    /// transport's; the caller scrubs it of the secret.
    pub fn send(&self, request: &Prepared) -> Result<Answer, String> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.wait_for_slot(&request.url);
            let answer = self.send_once(request);
            let retry_in = match &answer {
                Err(_) => Some(backoff(attempt)),
                Ok((answer, retry_after)) if answer.status == 429 || answer.status >= 500 => {
                    Some(retry_after.unwrap_or_else(|| backoff(attempt)))
                }
                Ok(_) => None,
            };
            match retry_in {
                Some(wait) if attempt < ATTEMPTS && wait <= MAX_RETRY_WAIT => {
                    std::thread::sleep(wait)
                }
                _ => return answer.map(|(answer, _)| answer),
            }
        }
    }

    fn send_once(&self, request: &Prepared) -> Result<(Answer, Option<Duration>), String> {
        let response = match request.method {
            Method::Get => {
                let mut builder = self.agent.get(&request.url);
                for (name, value) in &request.headers {
                    builder = builder.header(name, value);
                }
                builder.call()
            }
            Method::Post => {
                let mut builder = self.agent.post(&request.url);
                for (name, value) in &request.headers {
                    builder = builder.header(name, value);
                }
                builder.send(request.body.as_deref().unwrap_or_default())
            }
        }
        .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let location = header("location");
        let retry_after = header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response
            .into_body()
            .into_with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .unwrap_or_default();
        Ok((
            Answer {
                status,
                body,
                location,
            },
            retry_after,
        ))
    }

    /// Sleeps until this host's next slot, and books the one after.
    fn wait_for_slot(&self, url: &str) {
        let host = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or(url)
            .to_string();
        let start = {
            let Ok(mut slots) = self.next_slot.lock() else {
                return;
            };
            let now = Instant::now();
            let start = slots
                .get(&host)
                .copied()
                .filter(|t| *t > now)
                .unwrap_or(now);
            slots.insert(host, start + self.interval);
            start
        };
        let now = Instant::now();
        if start > now {
            std::thread::sleep(start - now);
        }
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200 << attempt.min(5))
}
