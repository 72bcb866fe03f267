//! What Auth0 computes server-side from certificates (pure): a SAML connection's `cert`,
//! `expires`, `subject` and `thumbprints` from its `signingCert`, an AD connection's
//! `thumbprints` from its `certs`, and the X.509 facts credentials are built from.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer as _, X509Certificate};

use super::certs::{decode_cert_text, pem_encode, sha1_hex};
use super::render::iso_ms;

/// The facts Auth0 reads out of a certificate.
#[derive(Clone, Debug, PartialEq)]
pub struct CertFacts {
    /// DER encoding.
    pub der: Vec<u8>,
    /// notBefore.
    pub not_before: OffsetDateTime,
    /// notAfter.
    pub not_after: OffsetDateTime,
    /// Subject attributes in order: (long name like `commonName`, short name like `CN`, value).
    pub subject: Vec<(String, String, String)>,
    /// DER of the SubjectPublicKeyInfo.
    pub spki_der: Vec<u8>,
}

impl CertFacts {
    /// Parses a DER certificate; `None` when it is not one.
    pub fn from_der(der: &[u8]) -> Option<Self> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let subject = cert
            .subject()
            .iter_attributes()
            .map(|attr| {
                let oid = attr.attr_type().to_id_string();
                let (long, short) = attribute_names(&oid);
                let value = attr.as_str().unwrap_or_default().to_owned();
                (
                    long.unwrap_or(&oid).to_owned(),
                    short.unwrap_or(&oid).to_owned(),
                    value,
                )
            })
            .collect();
        Some(Self {
            der: der.to_vec(),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            subject,
            spki_der: cert.tbs_certificate.subject_pki.raw.to_vec(),
        })
    }

    /// Decodes and parses a certificate in any encoding Auth0 accepts (see
    /// [`decode_cert_text`]).
    pub fn from_text(text: &str) -> Option<Self> {
        Self::from_der(&decode_cert_text(text)?)
    }

    /// The `subject` object of a SAML connection: long attribute names to values.
    pub fn subject_object(&self) -> Value {
        Value::Object(
            self.subject
                .iter()
                .map(|(long, _, value)| (long.clone(), Value::String(value.clone())))
                .collect(),
        )
    }

    /// A credential's `subject_dn`: `C=JP\nST=Tokyo\n…\nCN=…` (short names, one RDN a line).
    pub fn subject_dn(&self) -> String {
        self.subject
            .iter()
            .map(|(_, short, value)| format!("{short}={value}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn attribute_names(oid: &str) -> (Option<&'static str>, Option<&'static str>) {
    let (long, short) = match oid {
        "2.5.4.3" => ("commonName", "CN"),
        "2.5.4.6" => ("countryName", "C"),
        "2.5.4.7" => ("localityName", "L"),
        "2.5.4.8" => ("stateOrProvinceName", "ST"),
        "2.5.4.9" => ("streetAddress", "street"),
        "2.5.4.10" => ("organizationName", "O"),
        "2.5.4.11" => ("organizationalUnitName", "OU"),
        "2.5.4.5" => ("serialNumber", "serialNumber"),
        "2.5.4.4" => ("surname", "SN"),
        "2.5.4.42" => ("givenName", "GN"),
        "2.5.4.12" => ("title", "title"),
        "1.2.840.113549.1.9.1" => ("emailAddress", "emailAddress"),
        "0.9.2342.19200300.100.1.25" => ("domainComponent", "DC"),
        _ => return (None, None),
    };
    (Some(long), Some(short))
}

/// Why Auth0 would refuse a connection's options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionsError(pub String);

/// Applies Auth0's server-side computation to a connection's (new) `options`, as on create and
/// on `PATCH` (where `previous` holds the options being replaced):
///
/// - `samlp` / `pingfederate`: `cert` (PEM, `\n`), `expires` (= notAfter), `subject` and
///   `thumbprints` (lowercase SHA-1) are recomputed from `signingCert` (raw PEM, base64 of PEM, or
///   base64 DER; else from `cert`), overwriting whatever was sent. A `signingCert` that is not a
///   certificate is refused. For `pingfederate`, `signingCert` is write-only and removed.
/// - `ad`: `thumbprints` recomputed from `certs`.
/// - `waad`: `thumbprints` are managed by Auth0 (from Azure AD metadata), so they survive an
///   `options` replacement that does not carry them.
pub fn apply_computed(
    strategy: &str,
    options: &mut Map<String, Value>,
    previous: Option<&Map<String, Value>>,
) -> Result<(), OptionsError> {
    match strategy {
        "samlp" | "pingfederate" => {
            let signing = options.get("signingCert").and_then(Value::as_str);
            let (facts, raw_pem) = match signing {
                Some(text) => {
                    let facts = CertFacts::from_text(text).ok_or_else(|| {
                        OptionsError("options.signingCert is not a valid X.509 certificate".into())
                    })?;
                    (Some(facts), text.trim_start().starts_with("-----BEGIN"))
                }
                None => (
                    options
                        .get("cert")
                        .and_then(Value::as_str)
                        .and_then(CertFacts::from_text),
                    true,
                ),
            };
            if let Some(facts) = facts {
                // Raw-PEM input is echoed without a trailing newline; certificates Auth0 decoded
                // from base64 (metadata) come back with one — as in the recorded bodies.
                let cert = pem_encode("CERTIFICATE", &facts.der, "\n", !raw_pem);
                options.insert("cert".into(), Value::String(cert));
                options.insert("expires".into(), Value::String(iso_ms(facts.not_after)));
                options.insert("subject".into(), facts.subject_object());
                options.insert("thumbprints".into(), json!([sha1_hex(&facts.der)]));
            }
            if strategy == "pingfederate" {
                options.remove("signingCert");
            }
        }
        "ad" => {
            if let Some(certs) = options.get("certs").and_then(Value::as_array) {
                let thumbprints: Vec<Value> = certs
                    .iter()
                    .filter_map(Value::as_str)
                    .filter_map(decode_cert_text)
                    .map(|der| Value::String(sha1_hex(&der)))
                    .collect();
                options.insert("thumbprints".into(), Value::Array(thumbprints));
            }
        }
        "waad" => {
            let kept = previous.and_then(|p| p.get("thumbprints"));
            if let (false, Some(old)) = (options.contains_key("thumbprints"), kept) {
                options.insert("thumbprints".into(), old.clone());
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::certs::generate_cert;
    use time::macros::datetime;

    fn cert() -> crate::sim::GeneratedCert {
        generate_cert(
            "idp.acme.test",
            datetime!(2024-01-01 00:00 UTC),
            datetime!(2027-03-04 05:06:07 UTC),
        )
    }

    #[test]
    fn samlp_fields_are_computed_from_base64_pem_with_crlf() {
        let c = cert();
        let mut options = Map::new();
        options.insert("signingCert".into(), json!(c.base64_pem_crlf()));
        options.insert("thumbprints".into(), json!(["stale"]));
        apply_computed("samlp", &mut options, None).unwrap();
        assert_eq!(options["thumbprints"], json!([c.sha1_hex]));
        assert_eq!(options["expires"], json!("2027-03-04T05:06:07.000Z"));
        assert_eq!(options["subject"], json!({ "commonName": "idp.acme.test" }));
        assert_eq!(options["cert"], json!(c.pem));
        assert_eq!(options["signingCert"], json!(c.base64_pem_crlf()));
    }

    #[test]
    fn raw_pem_is_echoed_without_trailing_newline() {
        let c = cert();
        let mut options = Map::new();
        options.insert("signingCert".into(), json!(c.pem_crlf()));
        apply_computed("samlp", &mut options, None).unwrap();
        assert_eq!(options["cert"], json!(c.pem_lf_trimmed()));
    }

    #[test]
    fn pingfederate_signing_cert_is_write_only() {
        let c = cert();
        let mut options = Map::new();
        options.insert("signingCert".into(), json!(c.base64_der()));
        apply_computed("pingfederate", &mut options, None).unwrap();
        assert!(!options.contains_key("signingCert"));
        assert_eq!(options["thumbprints"], json!([c.sha1_hex]));
    }

    #[test]
    fn garbage_signing_cert_is_refused() {
        let mut options = Map::new();
        options.insert("signingCert".into(), json!("definitely not a cert"));
        assert!(apply_computed("samlp", &mut options, None).is_err());
    }

    #[test]
    fn waad_keeps_managed_thumbprints_and_ad_recomputes() {
        let mut previous = Map::new();
        previous.insert("thumbprints".into(), json!(["aa", "bb"]));
        let mut options = Map::new();
        apply_computed("waad", &mut options, Some(&previous)).unwrap();
        assert_eq!(options["thumbprints"], json!(["aa", "bb"]));

        let c = cert();
        let mut ad = Map::new();
        ad.insert("certs".into(), json!([c.pem, "garbage"]));
        apply_computed("ad", &mut ad, None).unwrap();
        assert_eq!(ad["thumbprints"], json!([c.sha1_hex]));
    }

    #[test]
    fn subject_dn_uses_short_names_one_per_line() {
        let facts = CertFacts::from_der(&cert().der).unwrap();
        assert_eq!(facts.subject_dn(), "CN=idp.acme.test");
    }
}
