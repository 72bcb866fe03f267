//! Auth0 list responses against generated bodies: well-typed items always decode, in every
//! envelope, one bad item never sinks the others, cut bodies fail with a message, and the
//! inventory conversion of whatever decodes never panics; error bodies always yield a code and a
//! message.

use crate::generators::*;
use crate::helpers::*;
use certwatch::auth0::wire;
use certwatch::inventory::sources;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::HashSet;

/// Certificate-ish strings: every valid encoding, broken ones and hostile text.
fn cert_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        cert_shape().prop_map(|s| Value::from(s.render().0)),
        hostile_string().prop_map(Value::from),
        any_json(),
    ]
}

fn opt_bool() -> impl Strategy<Value = Value> {
    prop_oneof![Just(Value::Null), any::<bool>().prop_map(Value::from)]
}

fn opt_string() -> impl Strategy<Value = Value> {
    prop_oneof![Just(Value::Null), hostile_string().prop_map(Value::from)]
}

/// Connection options in the shapes `sources::connection` reads, with random values.
fn options() -> impl Strategy<Value = Value> {
    (
        prop::option::of(cert_value()),
        prop::option::of(cert_value()),
        prop::option::of(prop::collection::vec(cert_value(), 0..3)),
        prop::option::of(cert_value()),
        prop::option::of(cert_value()),
        prop::option::of(prop::collection::vec(cert_value(), 0..3)),
        prop::option::of(prop_oneof![
            Just(Value::from("private_key_jwt")),
            any_json()
        ]),
        any_json(),
    )
        .prop_map(|(cert, signing, thumbs, sp, dec, certs, auth, extra)| {
            let mut o = serde_json::Map::new();
            let mut put = |k: &str, v: Option<Value>| {
                if let Some(v) = v {
                    o.insert(k.to_string(), v);
                }
            };
            put("cert", cert);
            put("signingCert", signing);
            put("thumbprints", thumbs.map(Value::from));
            put(
                "signing_key",
                sp.map(|c| json!({ "cert": c, "key": "SECRET KEY" })),
            );
            put("decryptionKey", dec.map(|c| json!({ "cert": c })));
            put("certs", certs.map(Value::from));
            put("token_endpoint_auth_method", auth);
            put("extra", Some(extra));
            Value::Object(o)
        })
}

#[derive(Debug, Clone, Copy)]
enum Dto {
    SigningKey,
    Client,
    Credential,
    Connection,
    ConnectionKey,
}

impl Dto {
    fn key_and_id(self) -> (&'static str, &'static str) {
        match self {
            Dto::SigningKey => ("", "kid"),
            Dto::Client => ("clients", "client_id"),
            Dto::Credential => ("", "id"),
            Dto::Connection => ("connections", "id"),
            Dto::ConnectionKey => ("", "kid"),
        }
    }
}

/// An item with every field the client reads, each of the right type (so it must decode).
fn well_typed(dto: Dto) -> BoxedStrategy<Value> {
    let id = "[a-zA-Z0-9_|-]{1,24}";
    match dto {
        Dto::SigningKey | Dto::ConnectionKey => (
            id,
            prop::option::of(cert_value().prop_filter("string", Value::is_string)),
            opt_string(),
            opt_bool(),
            opt_bool(),
            opt_bool(),
            opt_bool(),
        )
            .prop_map(|(kid, cert, tp, cur, next, prev, rev)| {
                json!({"kid": kid, "cert": cert, "thumbprint": tp, "current": cur, "next": next,
                       "previous": prev, "revoked": rev})
            })
            .boxed(),
        Dto::Client => (
            id,
            opt_string(),
            opt_bool(),
            any_json(),
            any_json(),
            prop::option::of(cert_value().prop_filter("string", Value::is_string)),
            prop::collection::vec(cert_value().prop_filter("string", Value::is_string), 0..3),
        )
            .prop_map(|(cid, name, global, cam, sro, enc, keys)| {
                let keys: Vec<Value> = keys.into_iter().map(|c| json!({"cert": c})).collect();
                json!({"client_id": cid, "name": name, "global": global,
                       "client_authentication_methods": cam, "signed_request_object": sro,
                       "encryption_key": {"cert": enc}, "signing_keys": keys})
            })
            .boxed(),
        Dto::Credential => (
            id,
            opt_string(),
            opt_string(),
            opt_string(),
            opt_string(),
            prop_oneof![
                Just(Value::Null),
                Just(Value::from("2031-05-13T11:29:08.000Z")),
                opt_string()
            ],
        )
            .prop_map(|(cid, name, ty, dn, tp, exp)| {
                json!({"id": cid, "name": name, "credential_type": ty, "subject_dn": dn,
                       "thumbprint_sha256": tp, "expires_at": exp})
            })
            .boxed(),
        Dto::Connection => (
            id,
            hostile_string(),
            prop_oneof![
                Just("samlp"),
                Just("pingfederate"),
                Just("adfs"),
                Just("waad"),
                Just("ad"),
                Just("oidc"),
                Just("okta")
            ],
            prop::option::of(options()),
        )
            .prop_map(|(cid, name, strategy, options)| {
                let mut v = json!({"id": cid, "name": name, "strategy": strategy});
                if let Some(o) = options {
                    v["options"] = o;
                }
                v
            })
            .boxed(),
    }
}

/// A list response: items of the right type and random ones, in one of Auth0's envelopes.
#[derive(Debug, Clone)]
struct ListBody {
    dto: Dto,
    items: Vec<(bool, Value)>,
    envelope: u8,
    cut: Option<prop::sample::Index>,
}

impl ListBody {
    fn bytes(&self) -> Vec<u8> {
        let (key, _) = self.dto.key_and_id();
        let items: Vec<Value> = self.items.iter().map(|(_, v)| v.clone()).collect();
        let doc = match (self.envelope % 3, key) {
            (_, "") | (0, _) => Value::from(items),
            (1, k) => json!({"total": items.len(), "start": 0, "limit": 100, k: items}),
            (_, k) => json!({"next": "cGFnZTI=", k: items}),
        };
        let mut bytes = serde_json::to_vec(&doc).unwrap();
        if let Some(i) = &self.cut {
            bytes.truncate(i.index(bytes.len()));
        }
        bytes
    }
}

fn list_body() -> impl Strategy<Value = ListBody> {
    prop_oneof![
        Just(Dto::SigningKey),
        Just(Dto::Client),
        Just(Dto::Credential),
        Just(Dto::Connection),
        Just(Dto::ConnectionKey),
    ]
    .prop_flat_map(|dto| {
        let item = prop_oneof![
            3 => well_typed(dto).prop_map(|v| (true, v)),
            1 => any_json().prop_map(|v| (false, v)),
        ];
        (
            Just(dto),
            prop::collection::vec(item, 0..8),
            any::<u8>(),
            prop::option::weighted(0.15, any::<prop::sample::Index>()),
        )
    })
    .prop_map(|(dto, items, envelope, cut)| ListBody {
        dto,
        items,
        envelope,
        cut,
    })
}

/// Decode like the client does, then convert like the poll does; returns (decoded, rejected).
fn decode_and_convert(dto: Dto, bytes: &[u8]) -> Result<(usize, usize), String> {
    fn run<T: serde::de::DeserializeOwned>(
        bytes: &[u8],
        dto: Dto,
    ) -> Result<(Vec<T>, usize), String> {
        let (key, id) = dto.key_and_id();
        let (ok, rejected, info) = wire::decode_list::<T>(bytes, key, id)?;
        assert_eq!(
            ok.len() + rejected.len(),
            info.got,
            "every item is accounted for"
        );
        for r in &rejected {
            assert!(!r.message.is_empty());
        }
        Ok((ok, rejected.len()))
    }
    let n = |ok: usize, rej: usize| Ok((ok, rej));
    match dto {
        Dto::SigningKey => {
            let (keys, rej) = run::<wire::SigningKey>(bytes, dto)?;
            let (records, _) = sources::signing_keys("prod", DOMAIN, &keys);
            assert_eq!(records.len(), keys.len(), "one record per signing key");
            for (r, k) in records.iter().zip(&keys) {
                assert!(r.not_after().is_some() || r.error.is_some(), "{k:?}");
            }
            n(keys.len(), rej)
        }
        Dto::Client => {
            let (clients, rej) = run::<wire::Client>(bytes, dto)?;
            for c in &clients {
                let (records, _) = sources::client("prod", c, &HashSet::new());
                for r in records {
                    assert!(r.not_after().is_some() || r.error.is_some());
                }
                let _ = sources::credential_refs(c);
            }
            n(clients.len(), rej)
        }
        Dto::Credential => {
            let (creds, rej) = run::<wire::Credential>(bytes, dto)?;
            let refs = creds.iter().map(|c| c.id.clone()).collect();
            let records = sources::credentials("prod", "cl_1", "app", &refs, &creds);
            assert_eq!(records.len(), creds.len(), "one record per credential");
            n(creds.len(), rej)
        }
        Dto::Connection => {
            let (conns, rej) = run::<wire::Connection>(bytes, dto)?;
            for c in &conns {
                let _ = sources::has_connection_keys(c);
                if let Some(o) = &c.options {
                    for r in sources::connection("prod", c, o) {
                        assert_eq!(r.object_id, c.id);
                    }
                }
            }
            n(conns.len(), rej)
        }
        Dto::ConnectionKey => {
            let (keys, rej) = run::<wire::ConnectionKey>(bytes, dto)?;
            let conn: wire::Connection =
                serde_json::from_value(json!({"id": "con_1", "name": "oidc", "strategy": "oidc"}))
                    .unwrap();
            assert_eq!(
                sources::connection_keys("prod", &conn, &keys).len(),
                keys.len()
            );
            n(keys.len(), rej)
        }
    }
}

proptest! {
    #![proptest_config(budget())]

    #[test]
    fn auth0_lists_decode_item_by_item_and_never_panic(body in list_body()) {
        let well_typed = body.items.iter().filter(|(ok, _)| *ok).count();
        match decode_and_convert(body.dto, &body.bytes()) {
            Ok((decoded, rejected)) => {
                prop_assert!(body.cut.is_none() || decoded + rejected <= body.items.len());
                if body.cut.is_none() {
                    prop_assert_eq!(decoded + rejected, body.items.len());
                    prop_assert!(decoded >= well_typed, "a well-typed item was rejected");
                }
            }
            Err(e) => {
                prop_assert!(body.cut.is_some(), "an intact body failed: {e}");
                prop_assert!(e.contains("invalid JSON") || e.contains("expected"), "{e}");
            }
        }
    }

    #[test]
    fn auth0_arbitrary_bodies_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512),
                                          v in any_json()) {
        let text = serde_json::to_vec(&v).unwrap();
        for body in [&bytes[..], &text[..]] {
            for dto in [Dto::SigningKey, Dto::Client, Dto::Credential, Dto::Connection,
                        Dto::ConnectionKey] {
                if let Err(e) = decode_and_convert(dto, body) {
                    prop_assert!(!e.is_empty());
                }
            }
            let e = wire::ErrorBody::parse(body);
            prop_assert!(!e.code().is_empty() && !e.message().is_empty());
            let _ = serde_json::from_slice::<wire::TokenResponse>(body);
        }
    }
}

/// Found by `auth0_arbitrary_bodies_never_panic`: a blank `errorCode` (or a JSON array, which
/// serde reads as the fields in order) made an empty error code and message.
#[test]
fn blank_auth0_error_fields_fall_back_to_the_next_one() {
    let e = wire::ErrorBody::parse(br#"{"errorCode":" ","error":"Forbidden","message":""}"#);
    assert_eq!(
        (e.code(), e.message()),
        ("Forbidden".into(), "Forbidden".into())
    );
    let e = wire::ErrorBody::parse(br#"[""]"#);
    assert_eq!(
        (e.code(), e.message()),
        ("unknown".into(), "no error message".into())
    );
}
