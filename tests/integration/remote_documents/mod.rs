//! Documents fetched from outside Auth0 against generated input (`remote::saml`,
//! `remote::jwks`, `remote::collect::tenant_jwks`): the stable-toolchain twin of the
//! `remote_saml` / `remote_jwks` cargo-fuzz targets. `saml_metadata` covers SAML / ADFS
//! metadata, `jwks_documents` JWKS and OIDC discovery documents; this file holds the certificate
//! pool, the damage done to any document, the coherence checks both share, and the check that
//! the fuzz seeds are what they claim to be.

mod jwks_documents;
mod saml_metadata;

use crate::generators::*;
use crate::helpers::cert;
use certwatch::remote::{PublishedCert, jwks, saml};
use certwatch::sim::GeneratedCert;
use proptest::prelude::*;
use std::sync::OnceLock;
use std::time::Duration;

/// The certificates documents are built from: the shared samples and two more (one expired).
pub fn pool() -> &'static [GeneratedCert] {
    static POOL: OnceLock<Vec<GeneratedCert>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (leaf, ca) = samples();
        vec![
            leaf.clone(),
            ca.clone(),
            cert("idp-next.fuzz.example", 400),
            cert("expired.fuzz.example", -5),
        ]
    })
}

pub fn pool_index() -> impl Strategy<Value = usize> {
    0..4usize
}

/// Runs `f` on its own thread and fails the test if it has not returned after `bound` (generous:
/// this catches a hang, not a slow run).
pub fn returns_within<T: Send + 'static>(
    bound: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(bound)
        .unwrap_or_else(|e| panic!("no answer within {bound:?}: {e}"))
}

pub fn assert_published_coherent(c: &PublishedCert) {
    assert!(c.sha1.is_empty() || is_sha1_hex(&c.sha1), "{c:?}");
    match &c.cert {
        Some(info) => assert!(info.sha1 == c.sha1 && c.error.is_none(), "{c:?}"),
        None => assert!(c.error.as_deref().is_some_and(|e| !e.is_empty()), "{c:?}"),
    }
}

pub fn is_sha1_hex(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Damage done to any document's bytes.
#[derive(Debug, Clone)]
pub enum Damage {
    /// Cut before its end: never a valid document (the root is never closed).
    Truncate(prop::sample::Index),
    /// One byte XORed with a non-zero value.
    Flip(prop::sample::Index, u8),
    /// Hostile text inserted somewhere.
    Insert(prop::sample::Index, String),
}

impl Damage {
    pub fn apply(&self, bytes: &[u8]) -> Vec<u8> {
        let mut b = bytes.to_vec();
        match self {
            Damage::Truncate(i) => b.truncate(i.index(bytes.len())),
            Damage::Flip(i, x) => b[i.index(bytes.len())] ^= x,
            Damage::Insert(i, s) => {
                let at = i.index(bytes.len());
                b.splice(at..at, s.bytes());
            }
        }
        b
    }
}

pub fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Damage::Truncate),
        (any::<prop::sample::Index>(), 1..=255u8).prop_map(|(i, x)| Damage::Flip(i, x)),
        (any::<prop::sample::Index>(), hostile_string()).prop_map(|(i, s)| Damage::Insert(i, s)),
    ]
}

/// The cargo-fuzz seeds are what they claim to be: real certificates (common.auth0.com's two
/// signing certificates, from the recorded JWKS) in SAML, Okta, ADFS and aggregate metadata.
#[test]
fn remote_fuzz_seeds_parse_as_recorded() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let read = |p: &str| std::fs::read(seeds.join(p)).unwrap();
    let recorded = jwks::parse(&read(
        "remote_jwks/tenant-jwks.common-auth0-com.dockyard.json",
    ))
    .unwrap();
    let sha1: Vec<String> = recorded
        .keys
        .iter()
        .map(|k| k.cert.as_ref().unwrap().sha1.clone())
        .collect();
    assert_eq!(sha1.len(), 2);
    for (seed, signing) in [
        ("shibboleth-idp-metadata.xml", &sha1[..1]),
        ("okta-metadata.xml", &sha1[..]),
        ("adfs-FederationMetadata.xml", &sha1[..]),
        ("federation-aggregate.xml", &sha1[..1]),
    ] {
        let m = saml::parse(&read(&format!("remote_saml/{seed}"))).unwrap();
        let got: Vec<&str> = m.signing.iter().map(|c| c.sha1.as_str()).collect();
        assert_eq!(got, signing, "{seed}");
        assert!(m.signing.iter().all(|c| c.cert.is_some()), "{seed}");
    }
    assert_eq!(
        jwks::discovery_jwks_uri(&read("remote_jwks/openid-configuration.json")).unwrap(),
        "https://login.example.com/.well-known/jwks.json"
    );
    for (seed, key) in [("x5t-old-style", 0), ("x5t-new-style", 1)] {
        let x5t = String::from_utf8(read(&format!("remote_jwks/{seed}"))).unwrap();
        assert_eq!(
            jwks::x5t_sha1_hex(&x5t).as_deref(),
            Some(sha1[key].as_str())
        );
    }
}
