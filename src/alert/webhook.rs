//! The webhook channel: POSTs the `json`, `slack` or `teams` body (from `render`), signed with
//! `X-Certwatch-Signature: sha256=<hex HMAC-SHA256(timestamp + "." + body)>` and
//! `X-Certwatch-Timestamp` when an HMAC key is configured. The URL is a secret: it never appears
//! in logs, errors or `Debug` output.

use super::policy::Batch;
use super::{DeliveryError, Error, Notifier, render};
use crate::clock::Clock;
use crate::config::{Filter, WebhookChannel, WebhookFormat};
use crate::secret::{MASK, Secret};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;

/// Header carrying the Unix timestamp that is signed.
pub const TIMESTAMP_HEADER: &str = "x-certwatch-timestamp";
/// Header carrying `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-certwatch-signature";

/// `sha256=<hex HMAC-SHA256(key, timestamp + "." + body)>`.
pub fn signature(key: &[u8], timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// One `[[alerts.webhook]]` channel.
pub struct WebhookNotifier {
    name: String,
    filter: Filter,
    url: Secret,
    format: WebhookFormat,
    hmac_secret: Option<Secret>,
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for WebhookNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookNotifier")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("format", &self.format)
            .field("hmac_secret", &self.hmac_secret)
            .finish_non_exhaustive()
    }
}

impl WebhookNotifier {
    /// Build the HTTP client (no redirects: a redirect would replay the body, and the signature,
    /// to a URL nobody configured). `clock` dates the signature.
    pub fn new(c: &WebhookChannel, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        let client = http_client(&c.name, c.timeout)?;
        Ok(Self {
            name: c.name.clone(),
            filter: c.filter.clone(),
            url: c.url.clone(),
            format: c.format,
            hmac_secret: c.hmac_secret.clone(),
            client,
            clock,
        })
    }

    /// The body for a batch in this channel's format.
    pub fn body(&self, batch: &Batch) -> String {
        match self.format {
            WebhookFormat::Json => render::json(batch),
            WebhookFormat::Slack => render::slack(batch),
            WebhookFormat::Teams => render::teams(batch),
        }
    }

    /// An error message with the URL masked, whatever the error printed.
    fn scrub(&self, e: reqwest::Error) -> String {
        let msg = transport_error(e);
        let url = self.url.expose();
        if url.is_empty() {
            msg
        } else {
            msg.replace(url, MASK)
        }
    }
}

/// The HTTP client of a channel: `timeout` per request, no redirects (a redirect would replay
/// the body, and any signature or credentials, to a URL nobody configured).
pub(super) fn http_client(
    channel: &str,
    timeout: std::time::Duration,
) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("certwatch/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Channel {
            channel: channel.into(),
            message: format!("cannot build the HTTP client: {}", e.without_url()),
        })
}

/// A transport error as text without its URL: its kind, then the source chain (hyper, io: the
/// useful part, "Connection refused").
pub(super) fn transport_error(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect error"
    } else {
        "request error"
    };
    let e = e.without_url();
    let mut msg = format!("{kind}: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

#[async_trait::async_trait]
impl Notifier for WebhookNotifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn filter(&self) -> &Filter {
        &self.filter
    }

    async fn send(&self, batch: &Batch) -> Result<(), DeliveryError> {
        let body = self.body(batch);
        let mut req = self
            .client
            .post(self.url.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some(key) = &self.hmac_secret {
            let ts = self.clock.now().unix_timestamp();
            req = req.header(TIMESTAMP_HEADER, ts.to_string()).header(
                SIGNATURE_HEADER,
                signature(key.expose().as_bytes(), ts, &body),
            );
        }
        let resp = req
            .body(body)
            .send()
            .await
            .map_err(|e| DeliveryError::Retryable(self.scrub(e)))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let code = status.as_u16();
        let msg = format!("HTTP {status}");
        // 408 and 429 are the receiver asking for a later retry; other non-2xx below 500 are
        // the receiver refusing this request (bad payload, revoked URL) and are not retried.
        if status.is_server_error() || code == 408 || code == 429 {
            Err(DeliveryError::Retryable(msg))
        } else {
            Err(DeliveryError::Rejected(msg))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Independent check with a known vector: HMAC-SHA256("key", "1700000000.{}").
        let sig = signature(b"key", 1_700_000_000, "{}");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"key").unwrap();
        mac.update(b"1700000000.{}");
        assert_eq!(
            sig,
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        );
        assert_eq!(sig.len(), "sha256=".len() + 64);
        assert_ne!(sig, signature(b"key", 1_700_000_001, "{}"));
    }
}
