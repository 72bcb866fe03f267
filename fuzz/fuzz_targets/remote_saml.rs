//! `certwatch::remote::saml::parse` on arbitrary bytes (SAML 2.0 / ADFS metadata fetched from
//! an IdP anyone can run).
//!
//! Invariants: never panics; a parsed document's signing certificates are deduplicated by SHA-1
//! (non-empty ones are unique), a decoded certificate's SHA-1 is its own lowercase hex, and an
//! undecodable one carries an error; errors have a message.
#![no_main]

use certwatch::remote::saml;
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;

fuzz_target!(|data: &[u8]| {
    match saml::parse(data) {
        Ok(m) => {
            let mut seen = HashSet::new();
            for c in &m.signing {
                assert!(
                    c.sha1.is_empty() || seen.insert(c.sha1.as_str()),
                    "duplicate {c:?}"
                );
                assert!(c.sha1.is_empty() || c.sha1.len() == 40, "{c:?}");
                match &c.cert {
                    Some(info) => {
                        assert_eq!(info.sha1, c.sha1);
                        assert_eq!(c.error, None);
                    }
                    None => assert!(c.error.as_deref().is_some_and(|e| !e.is_empty())),
                }
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
