//! The JWKS side of `certwatch::remote`: `jwks::parse`, `jwks::discovery_jwks_uri`,
//! `collect::tenant_jwks` and `jwks::x5t_sha1_hex` on arbitrary bytes (a tenant's or an
//! upstream IdP's `jwks.json`, an OIDC discovery document, an `x5t` value).
//!
//! Invariants: never panics; `tenant_jwks` succeeds exactly when `parse` does, with one fact
//! per key, each SHA-1 being 40 lowercase hex digits; a `jwks_uri` returned is an absolute URL;
//! `x5t_sha1_hex` gives 40 lowercase hex digits or nothing.
#![no_main]

use certwatch::remote::{collect, jwks};
use libfuzzer_sys::fuzz_target;

fn is_sha1_hex(s: &str) -> bool {
    s.len() == 40
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fuzz_target!(|data: &[u8]| {
    let parsed = jwks::parse(data);
    let facts = collect::tenant_jwks(data);
    match (&parsed, &facts) {
        (Ok(p), Ok(f)) => {
            assert_eq!(p.keys.len(), f.len());
            for (key, fact) in p.keys.iter().zip(f) {
                assert_eq!(key.kid, fact.kid);
                assert!(fact.sha1.as_deref().is_none_or(is_sha1_hex), "{fact:?}");
                if let Some(cert) = &key.cert {
                    assert!(cert.sha1.is_empty() || is_sha1_hex(&cert.sha1), "{cert:?}");
                    assert_eq!(cert.cert.is_some(), cert.error.is_none(), "{cert:?}");
                }
            }
        }
        (Err(e), Err(f)) => assert_eq!(&e.to_string(), f),
        _ => panic!("parse {parsed:?} but tenant_jwks {facts:?}"),
    }
    if let Ok(uri) = jwks::discovery_jwks_uri(data) {
        assert!(url::Url::parse(&uri).is_ok(), "{uri}");
    }
    if let Some(hex) = jwks::x5t_sha1_hex(&String::from_utf8_lossy(data)) {
        assert!(is_sha1_hex(&hex), "{hex}");
    }
});
