//! Certificates for the simulator: rcgen generation with chosen validity, and the text encodings
//! Auth0 uses for them (PEM with `\r\n` or `\n`, PKCS#7, colon/plain SHA-1 fingerprints).
//!
//! Everything here is pure except the randomness of keys and serial numbers; no clock is read.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::Rng as _;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_ECDSA_P256_SHA256};
use sha1::{Digest as _, Sha1};
use sha2::Sha256;
use time::OffsetDateTime;

/// A freshly generated self-signed certificate and everything tests need to know about it.
#[derive(Clone, Debug)]
pub struct GeneratedCert {
    /// The certificate as PEM with `\n` line ends and a trailing newline.
    pub pem: String,
    /// The DER encoding of the certificate.
    pub der: Vec<u8>,
    /// Lowercase hex SHA-1 of the DER (Auth0's `thumbprints` format).
    pub sha1_hex: String,
    /// Lowercase hex SHA-256 of the DER.
    pub sha256_hex: String,
    /// The private key as PKCS#8 PEM (used by rotation tests).
    pub key_pem: String,
    /// The certificate's subject common name.
    pub common_name: String,
    /// Start of validity (second precision, as encoded in the certificate).
    pub not_before: OffsetDateTime,
    /// End of validity (second precision, as encoded in the certificate).
    pub not_after: OffsetDateTime,
}

/// Generates a self-signed ECDSA P-256 certificate with `CN=common_name` and the given validity.
///
/// Each call generates a new key pair (about a millisecond); use [`CertFactory`] to issue many
/// certificates from one key when building large tenants.
pub fn generate_cert(
    common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> GeneratedCert {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("ECDSA P-256 key generation");
    issue(&key, common_name, not_before, not_after)
}

/// Issues many certificates from one key pair: each certificate still has its own serial number,
/// subject and validity, so thumbprints differ, but the expensive key generation happens once.
pub struct CertFactory {
    key: KeyPair,
}

impl CertFactory {
    /// A factory with a fresh ECDSA P-256 key.
    pub fn new() -> Self {
        Self {
            key: KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
                .expect("ECDSA P-256 key generation"),
        }
    }

    /// A process-wide shared factory, for scale tenants.
    pub fn shared() -> &'static CertFactory {
        static SHARED: OnceLock<CertFactory> = OnceLock::new();
        SHARED.get_or_init(CertFactory::new)
    }

    /// Issues a self-signed certificate; see [`generate_cert`].
    pub fn issue(
        &self,
        common_name: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> GeneratedCert {
        issue(&self.key, common_name, not_before, not_after)
    }
}

impl Default for CertFactory {
    fn default() -> Self {
        Self::new()
    }
}

fn issue(
    key: &KeyPair,
    common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> GeneratedCert {
    let params = params(common_name, not_before, not_after);
    let cert = params.self_signed(key).expect("self-signed certificate");
    finish(&cert, key, &params, common_name)
}

/// Parameters of a certificate with `CN=common_name`, the given validity (second precision) and a
/// random positive serial.
fn params(
    common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    // X.509 times have second precision; keep what the certificate will actually say.
    params.not_before = not_before.replace_nanosecond(0).expect("0 ns is valid");
    params.not_after = not_after.replace_nanosecond(0).expect("0 ns is valid");
    let mut serial = [0u8; 16];
    rand::rng().fill(&mut serial);
    serial[0] = (serial[0] & 0x7f) | 0x01; // positive and no leading zero byte
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    params
}

fn finish(
    cert: &rcgen::Certificate,
    key: &KeyPair,
    params: &CertificateParams,
    common_name: &str,
) -> GeneratedCert {
    let der = cert.der().to_vec();
    GeneratedCert {
        pem: pem_encode("CERTIFICATE", &der, "\n", true),
        sha1_hex: sha1_hex(&der),
        sha256_hex: hex::encode(Sha256::digest(&der)),
        key_pem: key.serialize_pem(),
        common_name: common_name.to_owned(),
        not_before: params.not_before,
        not_after: params.not_after,
        der,
    }
}

/// A TLS server chain for `dns_name`: a leaf (with the name as subjectAltName) valid from
/// `not_before` to `not_after`, issued by a freshly generated CA (`CN=certwatch simulator CA`,
/// valid half a year longer on each side). Returns `(leaf, ca)`; the leaf's `key_pem` is the
/// server key.
pub fn generate_chain(
    dns_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> (GeneratedCert, GeneratedCert) {
    const CA_NAME: &str = "certwatch simulator CA";
    let ca_key =
        KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("ECDSA P-256 key generation");
    let mut ca_params = params(
        CA_NAME,
        not_before - time::Duration::days(180),
        not_after + time::Duration::days(180),
    );
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).expect("self-signed CA");
    let ca = finish(&ca_cert, &ca_key, &ca_params, CA_NAME);
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key =
        KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("ECDSA P-256 key generation");
    let mut leaf_params = params(dns_name, not_before, not_after);
    leaf_params.subject_alt_names = vec![rcgen::SanType::DnsName(
        dns_name.try_into().expect("a valid DNS name"),
    )];
    let leaf = leaf_params
        .signed_by(&leaf_key, &issuer)
        .expect("CA-signed certificate");
    (finish(&leaf, &leaf_key, &leaf_params, dns_name), ca)
}

impl GeneratedCert {
    /// PEM with `\r\n` line ends and a trailing `\r\n`, as `/keys/signing` returns certificates.
    pub fn pem_crlf(&self) -> String {
        pem_encode("CERTIFICATE", &self.der, "\r\n", true)
    }

    /// PEM with `\n` line ends and no trailing newline, as Auth0 echoes a raw-PEM `signingCert`.
    pub fn pem_lf_trimmed(&self) -> String {
        pem_encode("CERTIFICATE", &self.der, "\n", false)
    }

    /// Base64 of the PEM text with `\r\n` line ends: what Auth0's docs ask for in `signingCert`.
    pub fn base64_pem_crlf(&self) -> String {
        STANDARD.encode(self.pem_crlf())
    }

    /// Base64 of the PEM text with `\n` line ends: what Auth0 stores when it derives
    /// `signingCert` from SAML metadata.
    pub fn base64_pem(&self) -> String {
        STANDARD.encode(&self.pem)
    }

    /// Base64 of the DER (no armour, no line breaks).
    pub fn base64_der(&self) -> String {
        STANDARD.encode(&self.der)
    }

    /// Upper-case hex SHA-1 with colons (Auth0's `fingerprint`).
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.der)
    }

    /// Upper-case hex SHA-1 without colons (Auth0's `thumbprint`).
    pub fn thumbprint(&self) -> String {
        self.sha1_hex.to_ascii_uppercase()
    }

    /// A degenerate PKCS#7 SignedData holding the certificate, as PEM with `\r\n`.
    pub fn pkcs7_pem(&self) -> String {
        pkcs7_pem(&self.der)
    }

    /// base64url (no padding) of the SHA-256 of the DER (a credential's `thumbprint_sha256`).
    pub fn thumbprint_sha256_b64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(&self.der))
    }
}

/// Encodes DER as PEM with the given label and line ending (64 characters per line).
pub fn pem_encode(label: &str, der: &[u8], eol: &str, trailing_eol: bool) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----{eol}");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push_str(eol);
    }
    out.push_str(&format!("-----END {label}-----"));
    if trailing_eol {
        out.push_str(eol);
    }
    out
}

/// Lowercase hex SHA-1 of `der`.
pub fn sha1_hex(der: &[u8]) -> String {
    hex::encode(Sha1::digest(der))
}

/// Upper-case colon-separated hex SHA-1 of `der` (`CC:FB:DD:…`).
pub fn fingerprint(der: &[u8]) -> String {
    Sha1::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A degenerate PKCS#7 `SignedData` (no signers) carrying one certificate, PEM with `\r\n`:
/// the same structure as the `pkcs`/`pkcs7` members of Auth0 key objects.
pub fn pkcs7_pem(cert_der: &[u8]) -> String {
    const OID_SIGNED_DATA: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
    ];
    const OID_DATA: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
    ];
    let mut signed_data = Vec::new();
    signed_data.extend_from_slice(&[0x02, 0x01, 0x01]); // version 1
    signed_data.extend_from_slice(&[0x31, 0x00]); // digestAlgorithms: empty SET
    signed_data.extend(der_tlv(0x30, OID_DATA)); // encapContentInfo
    signed_data.extend(der_tlv(0xa0, cert_der)); // certificates [0] IMPLICIT
    signed_data.extend_from_slice(&[0x31, 0x00]); // signerInfos: empty SET
    let mut content_info = OID_SIGNED_DATA.to_vec();
    content_info.extend(der_tlv(0xa0, &der_tlv(0x30, &signed_data)));
    pem_encode("PKCS7", &der_tlv(0x30, &content_info), "\r\n", true)
}

fn der_tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(value);
    out
}

/// Decodes a certificate given the way Auth0 stores them: PEM (with `\n`, `\r\n` or literal
/// `\\n` escapes), base64 of a PEM text, or base64 of the DER. Returns the first certificate's
/// DER, or `None` when the text is none of these.
pub fn decode_cert_text(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text.contains("-----BEGIN") {
        return pem_first_block(text, "CERTIFICATE");
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let decoded = STANDARD.decode(compact).ok()?;
    match std::str::from_utf8(&decoded) {
        Ok(inner) if inner.contains("-----BEGIN") => pem_first_block(inner, "CERTIFICATE"),
        _ => {
            // Raw DER: accept only what parses as a certificate.
            x509_parser::parse_x509_certificate(&decoded).ok()?;
            Some(decoded)
        }
    }
}

/// The DER of the first PEM block with `label` (`\r\n`, `\n` and literal `\\n` tolerated).
pub fn pem_first_block(text: &str, label: &str) -> Option<Vec<u8>> {
    let text = text.replace("\\n", "\n");
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let body: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn generated_cert_has_requested_validity_and_digests() {
        let cert = generate_cert(
            "idp.example.com",
            datetime!(2024-01-01 00:00 UTC),
            datetime!(2026-01-01 00:00 UTC),
        );
        let (_, parsed) = x509_parser::parse_x509_certificate(&cert.der).unwrap();
        assert_eq!(
            parsed.validity().not_after.to_datetime(),
            datetime!(2026-01-01 00:00 UTC)
        );
        assert_eq!(
            parsed.validity().not_before.to_datetime(),
            datetime!(2024-01-01 00:00 UTC)
        );
        assert_eq!(cert.sha1_hex, hex::encode(Sha1::digest(&cert.der)));
        assert_eq!(cert.sha1_hex.len(), 40);
        assert_eq!(cert.sha256_hex.len(), 64);
        assert!(cert.pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(!cert.pem.contains('\r'));
        assert!(cert.key_pem.contains("PRIVATE KEY"));
        assert_eq!(
            cert.fingerprint().replace(':', "").to_lowercase(),
            cert.sha1_hex
        );
    }

    #[test]
    fn every_auth0_encoding_decodes_to_the_same_der() {
        let cert = generate_cert(
            "x",
            datetime!(2024-01-01 00:00 UTC),
            datetime!(2025-01-01 00:00 UTC),
        );
        let escaped = cert.pem.replace('\n', "\\n");
        for text in [
            cert.pem.clone(),
            cert.pem_crlf(),
            cert.pem_lf_trimmed(),
            cert.base64_pem(),
            cert.base64_pem_crlf(),
            cert.base64_der(),
            escaped,
        ] {
            assert_eq!(
                decode_cert_text(&text).as_deref(),
                Some(&cert.der[..]),
                "{text}"
            );
        }
        assert_eq!(decode_cert_text("not a certificate"), None);
        assert_eq!(decode_cert_text("aGVsbG8="), None); // base64 of "hello"
    }

    #[test]
    fn pkcs7_wraps_the_certificate_like_auth0() {
        let cert = generate_cert(
            "x",
            datetime!(2024-01-01 00:00 UTC),
            datetime!(2025-01-01 00:00 UTC),
        );
        let pem = cert.pkcs7_pem();
        assert!(pem.starts_with("-----BEGIN PKCS7-----\r\n"));
        let der = pem_first_block(&pem, "PKCS7").unwrap();
        // ContentInfo → [0] → SignedData; the certificate is embedded verbatim.
        assert_eq!(&der[..2], &[0x30, 0x82]);
        assert!(der.windows(cert.der.len()).any(|w| w == cert.der));
        assert!(der.ends_with(&[0x31, 0x00]));
    }

    #[test]
    fn factory_issues_distinct_certificates_quickly() {
        let factory = CertFactory::new();
        let start = std::time::Instant::now();
        let certs: Vec<_> = (0..200)
            .map(|i| {
                factory.issue(
                    &format!("cn-{i}"),
                    datetime!(2024-01-01 00:00 UTC),
                    datetime!(2030-01-01 00:00 UTC),
                )
            })
            .collect();
        let elapsed = start.elapsed();
        let distinct: std::collections::HashSet<_> = certs.iter().map(|c| &c.sha1_hex).collect();
        assert_eq!(distinct.len(), 200);
        assert!(elapsed.as_secs_f64() < 5.0, "{elapsed:?}");
    }
}
