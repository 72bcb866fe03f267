//! Pure certificate decoding: every encoding Auth0 returns → `CertInfo` (dates, names, thumbprints).
//!
//! Accepted inputs (docs/inventory.md, docs/auth0-api.md): PEM with `\n` or `\r\n`, PEM whose
//! line breaks arrive as literal `\n` escapes, base64 of a PEM text (what Auth0 stores for
//! metadata-derived `signingCert`), base64 of DER, and chains (the first certificate, the leaf,
//! counts). Thumbprints are computed over the leaf's DER the way Auth0 shows them: lowercase hex
//! SHA-1 / SHA-256, no colons. Nothing here panics on hostile input; every failure is an `Error`
//! with a human message.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use sha1::Digest as _;
use time::OffsetDateTime;

mod dn;

/// What certwatch needs to know about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Subject distinguished name as openssl prints it (`CN=…, O=…`, in certificate order; see
    /// docs/findings.md).
    pub subject: String,
    /// Issuer distinguished name, likewise.
    pub issuer: String,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Lowercase hex SHA-1 of the DER (Auth0's `thumbprints`).
    pub sha1: String,
    /// Lowercase hex SHA-256 of the DER.
    pub sha256: String,
}

/// Why a certificate could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The value is empty or whitespace.
    #[error("empty certificate value")]
    Empty,
    /// A PEM document that holds something other than a certificate.
    #[error("PEM block is a {0}, not a certificate")]
    NotACertificate(String),
    /// A PEM header without its matching footer, or a body that is not base64.
    #[error("malformed PEM: {0}")]
    Pem(String),
    /// Neither PEM nor base64.
    #[error("not PEM and not base64 ({0})")]
    Encoding(String),
    /// Bytes that are not a valid X.509 certificate.
    #[error("invalid X.509 DER: {0}")]
    Der(String),
}

/// Base64 that tolerates missing or extra padding (Auth0 values are hand-pasted).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decode a certificate value in any encoding Auth0 returns.
pub fn decode(input: &str) -> Result<CertInfo, Error> {
    decode_der(&leaf_der(input)?)
}

/// Extract the DER of the leaf certificate from any accepted encoding.
pub fn leaf_der(input: &str) -> Result<Vec<u8>, Error> {
    let text = unescape(input.trim());
    if text.is_empty() {
        return Err(Error::Empty);
    }
    if text.contains("-----BEGIN") {
        return pem_leaf(&text);
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = LENIENT
        .decode(compact.as_bytes())
        .or_else(|_| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(compact.trim_end_matches('='))
        })
        .map_err(|e| Error::Encoding(e.to_string()))?;
    if bytes.starts_with(b"-----BEGIN") {
        let inner = String::from_utf8(bytes)
            .map_err(|_| Error::Pem("base64 of PEM is not UTF-8".into()))?;
        return pem_leaf(&unescape(inner.trim()));
    }
    Ok(bytes)
}

/// Parse DER bytes into `CertInfo`.
pub fn decode_der(der: &[u8]) -> Result<CertInfo, Error> {
    if der.is_empty() {
        return Err(Error::Empty);
    }
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| {
        Error::Der(match announced_length(der) {
            Some(total) if total > der.len() => format!(
                "truncated: the certificate announces {total} bytes of DER, {} are there",
                der.len()
            ),
            _ => der_error(&e),
        })
    })?;
    let validity = cert.validity();
    Ok(CertInfo {
        subject: dn::format(cert.subject()),
        issuer: dn::format(cert.issuer()),
        serial: hex::encode(cert.raw_serial()),
        not_before: validity.not_before.to_datetime(),
        not_after: validity.not_after.to_datetime(),
        sha1: hex::encode(sha1::Sha1::digest(der)),
        sha256: hex::encode(sha2::Sha256::digest(der)),
    })
}

/// Lowercase hex SHA-1 of a DER certificate (Auth0's thumbprint form).
pub fn sha1_hex(der: &[u8]) -> String {
    hex::encode(sha1::Sha1::digest(der))
}

/// Normalise a thumbprint in any of Auth0's spellings (`CC:FB:…`, `CCFB…`, `ccfb…`) to lowercase hex.
pub fn normalize_thumbprint(t: &str) -> String {
    t.chars()
        .filter(|c| c.is_ascii_hexdigit())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Render DER as PEM with the given line ending.
pub fn der_to_pem(der: &[u8], eol: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + 80);
    out.push_str("-----BEGIN CERTIFICATE-----");
    out.push_str(eol);
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push_str(eol);
    }
    out.push_str("-----END CERTIFICATE-----");
    out
}

fn der_error(e: &x509_parser::nom::Err<x509_parser::error::X509Error>) -> String {
    match e {
        x509_parser::nom::Err::Incomplete(_) => "truncated".to_string(),
        x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e) => e.to_string(),
    }
}

/// The total length (header included) the outer DER SEQUENCE of `der` announces.
fn announced_length(der: &[u8]) -> Option<usize> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    if tag != 0x30 {
        return None;
    }
    if first < 0x80 {
        return Some(2 + usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 || rest.len() < n {
        return None;
    }
    let len = rest[..n]
        .iter()
        .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
    Some(2 + n + len)
}

/// Turn literal `\r\n` / `\n` escapes (a JSON value that was escaped twice) into line breaks.
fn unescape(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains("\\n") {
        std::borrow::Cow::Owned(
            s.replace("\\r\\n", "\n")
                .replace("\\n", "\n")
                .replace("\\r", "\n"),
        )
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// The DER of the first CERTIFICATE block of a PEM text (a chain's leaf).
fn pem_leaf(text: &str) -> Result<Vec<u8>, Error> {
    let mut rest = text;
    let mut other_label = None;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let label_end = after
            .find("-----")
            .ok_or_else(|| Error::Pem("unterminated BEGIN line".into()))?;
        let label = &after[..label_end];
        let body_start = &after[label_end + 5..];
        let footer = format!("-----END {label}-----");
        let body_end = body_start
            .find(&footer)
            .ok_or_else(|| Error::Pem(format!("missing {footer}")))?;
        if label.ends_with("CERTIFICATE") {
            let body: String = body_start[..body_end]
                .lines()
                .filter(|l| !l.contains(':'))
                .flat_map(|l| l.chars())
                .filter(|c| !c.is_whitespace())
                .collect();
            return LENIENT
                .decode(body.as_bytes())
                .map_err(|e| Error::Pem(format!("body is not base64: {e}")));
        }
        other_label.get_or_insert_with(|| label.to_string());
        rest = &body_start[body_end + footer.len()..];
    }
    Err(match other_label {
        Some(label) => Error::NotACertificate(label),
        None => Error::Pem("no BEGIN line".into()),
    })
}

#[cfg(test)]
mod tests;
