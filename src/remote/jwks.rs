//! Pure parsers of a JWKS document (a tenant's `/.well-known/jwks.json`, an upstream OIDC IdP's
//! `jwks_uri`) and of an OIDC discovery document, plus the `x5t` → SHA-1 conversion. No I/O.
//!
//! Rules: one bad key never hides the others. A `keys` entry that is not a JSON object is
//! skipped and counted in [`Parsed::skipped`]; a member of the wrong type reads as absent; an
//! `x5c[0]` that does not decode is a [`PublishedCert`] with `error`. Only a document that is not
//! JSON, or has no `keys` array, is an [`Error`].
//!
//! Only signing keys are an IdP's signing certificates ([`signing_certs`], docs/findings.md):
//! a key with `use: "enc"` never counts, nor, without a `use`, one whose `key_ops` name neither
//! `sign` nor `verify` or whose `alg` is a JWE key-management algorithm (Keycloak publishes an
//! `RSA-OAEP` encryption key, with its certificate, beside its signing key).

use super::PublishedCert;
use base64::Engine as _;
use serde_json::Value;

/// One key of a JWKS, as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksKey {
    /// `kid`.
    pub kid: Option<String>,
    /// `kty` (`RSA`, `EC`, …).
    pub kty: Option<String>,
    /// `use` (`sig`, `enc`).
    pub use_: Option<String>,
    /// `alg` (`RS256`, `RSA-OAEP`, …).
    pub alg: Option<String>,
    /// `key_ops` (`verify`, `encrypt`, …); `None` when absent or not an array of strings.
    pub key_ops: Option<Vec<String>>,
    /// `x5t` as published (base64url; see [`x5t_sha1_hex`]).
    pub x5t: Option<String>,
    /// The certificate `x5c[0]` (standard base64 DER); `None` when the key has no `x5c`.
    pub cert: Option<PublishedCert>,
}

/// A parsed JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The usable keys, in document order.
    pub keys: Vec<JwksKey>,
    /// `keys` entries that were not JSON objects and were skipped.
    pub skipped: usize,
}

/// Why a document is not a JWKS or a discovery document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not JSON.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an object with a `keys` array.
    #[error("not a JWKS: no \"keys\" array")]
    NoKeys,
    /// A discovery document without a usable `jwks_uri`.
    #[error("discovery document has no usable \"jwks_uri\": {0}")]
    NoJwksUri(String),
}

/// Parse a JWKS (`{"keys":[…]}`).
pub fn parse(json: &[u8]) -> Result<Parsed, Error> {
    let doc: Value = serde_json::from_slice(json).map_err(|e| Error::NotJson(e.to_string()))?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(Error::NoKeys)?;
    let mut parsed = Parsed {
        keys: Vec::with_capacity(keys.len()),
        skipped: 0,
    };
    for key in keys {
        match key.as_object() {
            Some(key) => parsed.keys.push(read_key(key)),
            None => parsed.skipped += 1,
        }
    }
    Ok(parsed)
}

fn read_key(key: &serde_json::Map<String, Value>) -> JwksKey {
    let text = |name: &str| key.get(name).and_then(Value::as_str).map(str::to_owned);
    let cert = match key.get("x5c") {
        None | Some(Value::Null) => None,
        Some(Value::Array(chain)) => chain.first().map(|first| match first.as_str() {
            Some(b64) => PublishedCert::from_base64_der(b64),
            None => not_a_cert("x5c[0] is not a string"),
        }),
        Some(_) => Some(not_a_cert("x5c is not an array")),
    };
    let key_ops = key
        .get("key_ops")
        .and_then(Value::as_array)
        .and_then(|ops| {
            ops.iter()
                .map(|op| op.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        });
    JwksKey {
        kid: text("kid"),
        kty: text("kty"),
        use_: text("use"),
        alg: text("alg"),
        key_ops,
        x5t: text("x5t"),
        cert,
    }
}

impl JwksKey {
    /// Whether this is an encryption key, never a signing certificate: `use: "enc"`; or no
    /// `use`, and `key_ops` without `sign`/`verify`, or a JWE key-management `alg`.
    pub fn is_encryption(&self) -> bool {
        match self.use_.as_deref().map(str::trim) {
            Some(use_) => use_ == "enc",
            None => {
                let ops_exclude_signing = self
                    .key_ops
                    .as_ref()
                    .is_some_and(|ops| !ops.iter().any(|op| op == "sign" || op == "verify"));
                ops_exclude_signing || self.alg.as_deref().is_some_and(is_key_management_alg)
            }
        }
    }
}

/// A JWE key-management algorithm (RFC 7518 §4.1): the key encrypts content keys.
fn is_key_management_alg(alg: &str) -> bool {
    alg == "RSA1_5"
        || alg == "dir"
        || alg.starts_with("RSA-OAEP")
        || alg.starts_with("ECDH-ES")
        || alg.starts_with("PBES2-")
        || (alg.starts_with('A') && alg.ends_with("KW"))
}

/// The signing certificates of a JWKS: `x5c[0]` of every key that is not an encryption key
/// ([`JwksKey::is_encryption`]), deduplicated by SHA-1 in document order. A key without `x5c`
/// publishes no certificate.
pub fn signing_certs(parsed: Parsed) -> Vec<PublishedCert> {
    let mut certs = Vec::new();
    for key in parsed.keys {
        if key.is_encryption() {
            continue;
        }
        if let Some(cert) = key.cert {
            super::push_unique(&mut certs, cert);
        }
    }
    certs
}

fn not_a_cert(why: &str) -> PublishedCert {
    PublishedCert {
        sha1: String::new(),
        cert: None,
        error: Some(why.to_owned()),
        der: Vec::new(),
    }
}

/// The `jwks_uri` of an OIDC discovery document (`/.well-known/openid-configuration`); it must
/// be an absolute URL.
pub fn discovery_jwks_uri(json: &[u8]) -> Result<String, Error> {
    let doc: Value = serde_json::from_slice(json).map_err(|e| Error::NotJson(e.to_string()))?;
    let uri = match doc.get("jwks_uri") {
        Some(Value::String(s)) => s.trim(),
        Some(_) => return Err(Error::NoJwksUri("not a string".into())),
        None => return Err(Error::NoJwksUri("missing".into())),
    };
    url::Url::parse(uri).map_err(|e| Error::NoJwksUri(format!("not an absolute URL ({e})")))?;
    Ok(uri.to_owned())
}

/// The lowercase hex SHA-1 an `x5t` stands for, comparable with [`PublishedCert::sha1`].
///
/// `x5t` is base64url (padding tolerated) of the certificate's SHA-1: 20 bytes. Old Auth0 keys
/// instead publish base64url of the *upper-case hex text* of the SHA-1 (40 ASCII hex digits,
/// and `kid == x5t`); that text is returned lowercased. Anything else is `None`.
pub fn x5t_sha1_hex(x5t: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(x5t.trim().trim_end_matches('='))
        .ok()?;
    match bytes.len() {
        20 => Some(hex::encode(bytes)),
        40 if bytes.iter().all(u8::is_ascii_hexdigit) => {
            Some(String::from_utf8_lossy(&bytes).to_ascii_lowercase())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::certs::generate_cert;
    use time::macros::datetime;

    /// The real `https://common.auth0.com/.well-known/jwks.json` (2022), see its `.source.txt`.
    fn recorded() -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/auth0/tenant-jwks.common-auth0-com.dockyard.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn recorded_tenant_jwks_x5t_matches_the_certificate() {
        let parsed = parse(recorded().as_bytes()).unwrap();
        assert_eq!(parsed.skipped, 0);
        assert_eq!(parsed.keys.len(), 2);
        for key in &parsed.keys {
            assert_eq!(key.kty.as_deref(), Some("RSA"));
            assert_eq!(key.use_.as_deref(), Some("sig"));
            let cert = key.cert.as_ref().unwrap();
            assert_eq!(cert.error, None);
            let info = cert.cert.as_ref().unwrap();
            assert_eq!(info.subject, "CN=common.auth0.com");
            let x5t = key.x5t.as_deref().unwrap();
            assert_eq!(x5t_sha1_hex(x5t).as_deref(), Some(cert.sha1.as_str()));
        }
        // Key 1 is old-style: kid == x5t == base64url of the upper-case hex SHA-1 text.
        let old = &parsed.keys[0];
        assert_eq!(old.kid, old.x5t);
        assert_eq!(
            old.cert.as_ref().unwrap().cert.as_ref().unwrap().not_after,
            datetime!(2029-07-19 13:16:33 UTC)
        );
        // Key 2 is new-style: a random kid, x5t = base64url(SHA-1(DER)).
        let new = &parsed.keys[1];
        assert_eq!(new.kid.as_deref(), Some("Lk-5NnjByFf99cg0nxMdi"));
        assert_ne!(new.kid, new.x5t);
    }

    #[test]
    fn one_bad_key_never_hides_the_others() {
        let good = generate_cert(
            "tenant.auth0.com",
            datetime!(2024-01-01 00:00 UTC),
            datetime!(2034-01-01 00:00 UTC),
        );
        let doc = serde_json::json!({"keys": [
            "not an object",
            42,
            {"kid": 7, "kty": "RSA", "x5c": "MIIB"},
            {"kid": "bad-b64", "x5c": ["!!!"]},
            {"kid": "not-string", "x5c": [17]},
            {"kid": "empty", "x5c": []},
            {"kid": "no-x5c", "kty": "EC", "use": "enc"},
            {"kid": "good", "x5t": "x", "x5c": [good.base64_der(), "ignored"]},
        ]});
        let parsed = parse(doc.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.skipped, 2);
        let kids: Vec<_> = parsed.keys.iter().map(|k| k.kid.as_deref()).collect();
        assert_eq!(
            kids,
            [
                None,
                Some("bad-b64"),
                Some("not-string"),
                Some("empty"),
                Some("no-x5c"),
                Some("good")
            ]
        );
        let errors: Vec<_> = parsed
            .keys
            .iter()
            .map(|k| k.cert.as_ref().and_then(|c| c.error.clone()))
            .collect();
        assert!(errors[0].as_deref().unwrap().contains("not an array"));
        assert!(errors[1].as_deref().unwrap().contains("base64"));
        assert!(errors[2].as_deref().unwrap().contains("not a string"));
        assert_eq!(parsed.keys[3].cert, None);
        assert_eq!(parsed.keys[4].cert, None);
        assert_eq!(parsed.keys[4].use_.as_deref(), Some("enc"));
        let last = parsed.keys[5].cert.as_ref().unwrap();
        assert_eq!(last.sha1, good.sha1_hex);
        assert_eq!(
            last.cert.as_ref().unwrap().not_after,
            datetime!(2034-01-01 00:00 UTC)
        );
    }

    #[test]
    fn encryption_keys_are_never_signing_certificates() {
        let cert = |cn: &str| {
            generate_cert(
                cn,
                datetime!(2024-01-01 00:00 UTC),
                datetime!(2034-01-01 00:00 UTC),
            )
        };
        let (sig, enc, ops, alg, bare) = (
            cert("sig"),
            cert("enc"),
            cert("ops"),
            cert("alg"),
            cert("bare"),
        );
        let doc = serde_json::json!({"keys": [
            {"kid": "sig", "use": "sig", "alg": "RS256", "x5c": [sig.base64_der()]},
            {"kid": "enc", "use": "enc", "alg": "RSA-OAEP", "x5c": [enc.base64_der()]},
            {"kid": "ops", "key_ops": ["encrypt", "wrapKey"], "x5c": [ops.base64_der()]},
            {"kid": "alg", "alg": "ECDH-ES+A256KW", "x5c": [alg.base64_der()]},
            {"kid": "bare", "key_ops": ["verify"], "alg": "RS256", "x5c": [bare.base64_der()]},
            {"kid": "dup", "x5c": [sig.base64_der()]},
            {"kid": "no-x5c", "use": "sig"},
        ]});
        let parsed = parse(doc.to_string().as_bytes()).unwrap();
        let enc_kids: Vec<_> = parsed
            .keys
            .iter()
            .filter(|k| k.is_encryption())
            .filter_map(|k| k.kid.as_deref())
            .collect();
        assert_eq!(enc_kids, ["enc", "ops", "alg"]);
        let sha1s: Vec<_> = signing_certs(parsed).into_iter().map(|c| c.sha1).collect();
        assert_eq!(sha1s, [sig.sha1_hex.clone(), bare.sha1_hex.clone()]);
        for (alg, enc) in [
            ("RSA1_5", true),
            ("RSA-OAEP-256", true),
            ("A128KW", true),
            ("A256GCMKW", true),
            ("dir", true),
            ("PBES2-HS256+A128KW", true),
            ("RS256", false),
            ("ES256", false),
            ("A256GCM", false),
        ] {
            assert_eq!(is_key_management_alg(alg), enc, "{alg}");
        }
    }

    #[test]
    fn not_a_jwks_is_an_error() {
        assert!(matches!(parse(b"<html/>"), Err(Error::NotJson(_))));
        assert!(matches!(parse(b""), Err(Error::NotJson(_))));
        assert_eq!(parse(b"{}"), Err(Error::NoKeys));
        assert_eq!(parse(b"[]"), Err(Error::NoKeys));
        assert_eq!(parse(br#"{"keys":{}}"#), Err(Error::NoKeys));
        assert_eq!(parse(br#"{"keys":[]}"#).unwrap().keys, []);
    }

    #[test]
    fn discovery_document_jwks_uri() {
        let doc = br#"{"issuer":"https://login.example.com/","authorization_endpoint":"https://login.example.com/authorize","jwks_uri":"https://login.example.com/.well-known/jwks.json","id_token_signing_alg_values_supported":["RS256"]}"#;
        assert_eq!(
            discovery_jwks_uri(doc).unwrap(),
            "https://login.example.com/.well-known/jwks.json"
        );
        for (doc, why) in [
            (&br#"{"issuer":"x"}"#[..], "missing"),
            (br#"{"jwks_uri":1}"#, "not a string"),
            (br#"{"jwks_uri":"/relative/jwks.json"}"#, "absolute"),
        ] {
            let e = discovery_jwks_uri(doc).unwrap_err();
            assert!(e.to_string().contains(why), "{e}");
        }
        assert!(matches!(
            discovery_jwks_uri(b"nope"),
            Err(Error::NotJson(_))
        ));
    }

    #[test]
    fn x5t_forms() {
        let sha1 = "b61ce5a5b398e2e4b10df7ca9eaa95413e7055a2";
        let raw = hex::decode(sha1).unwrap();
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw);
        assert_eq!(x5t_sha1_hex(&b64url).as_deref(), Some(sha1));
        let padded = base64::engine::general_purpose::URL_SAFE.encode(&raw);
        assert_eq!(x5t_sha1_hex(&padded).as_deref(), Some(sha1));
        // Old Auth0 form: base64url of the upper-case hex text.
        assert_eq!(
            x5t_sha1_hex("QjYxQ0U1QTVCMzk4RTJFNEIxMERGN0NBOUVBQTk1NDEzRTcwNTVBMg").as_deref(),
            Some(sha1)
        );
        for bad in ["", "!!", "aGVsbG8", &"A".repeat(54)] {
            assert_eq!(x5t_sha1_hex(bad), None, "{bad}");
        }
    }
}
