//! Auth0 response decoding: `certwatch::auth0::wire::decode_list` for each DTO the client reads
//! (with the envelope key and id field the client uses), then the pure `inventory::sources`
//! conversion of whatever decoded, plus the error body and token response parsers. The first
//! input byte picks the endpoint; the rest is the response body.
//!
//! Invariants: never panics; every list item is either decoded or rejected (`got` adds up);
//! an error body always yields a non-blank code and message.
#![no_main]

use certwatch::auth0::wire::{self, decode_list};
use certwatch::inventory::sources;
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;

fn list<T: serde::de::DeserializeOwned>(body: &[u8], key: &str, id: &str) -> Vec<T> {
    match decode_list::<T>(body, key, id) {
        Ok((ok, rejected, info)) => {
            assert_eq!(ok.len() + rejected.len(), info.got);
            ok
        }
        Err(e) => {
            assert!(!e.is_empty());
            Vec::new()
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    match which % 7 {
        0 => {
            let keys = list::<wire::SigningKey>(body, "", "kid");
            let _ = sources::signing_keys("prod", "acme.auth0.com", &keys);
        }
        1 => {
            for c in list::<wire::Client>(body, "clients", "client_id") {
                let _ = sources::client("prod", &c, &HashSet::new());
                let _ = sources::credential_refs(&c);
            }
        }
        2 => {
            let creds = list::<wire::Credential>(body, "", "id");
            let refs: HashSet<String> = creds.iter().map(|c| c.id.clone()).collect();
            let _ = sources::credentials("prod", "cl_1", "app", &refs, &creds);
        }
        3 => {
            for c in list::<wire::Connection>(body, "connections", "id") {
                let _ = sources::has_connection_keys(&c);
                if let Some(options) = &c.options {
                    let _ = sources::connection("prod", &c, options);
                }
            }
        }
        4 => {
            let keys = list::<wire::ConnectionKey>(body, "", "kid");
            let conn: wire::Connection =
                serde_json::from_str(r#"{"id":"con_1","name":"oidc","strategy":"oidc"}"#)
                    .expect("static JSON");
            let _ = sources::connection_keys("prod", &conn, &keys);
        }
        5 => {
            let e = wire::ErrorBody::parse(body);
            assert!(!e.code().trim().is_empty() && !e.message().trim().is_empty());
        }
        _ => {
            let _ = serde_json::from_slice::<wire::TokenResponse>(body);
        }
    }
});
