//! JWKS and OIDC discovery documents against generated input: valid documents parse key by key
//! (`x5c`, `x5t` in either form), damaged ones give `Ok` or `Err` and never panic or hang,
//! arbitrary JSON and bytes never panic, and a discovery document gives its absolute
//! `jwks_uri`.

use super::*;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use certwatch::remote::{collect, jwks};
use serde_json::{Map, Value, json};

/// `x5c` of a generated key.
#[derive(Debug, Clone)]
enum X5c {
    Absent,
    Null,
    /// `[pool cert, (another)]`.
    Chain(usize, bool),
    Empty,
    /// Neither an array nor null.
    NotArray(Value),
    /// An array whose first value is not a string.
    FirstNotString(Value),
    /// A string that is not a certificate.
    Garbage(String),
}

/// `x5t` of a generated key.
#[derive(Debug, Clone)]
enum X5t {
    Absent,
    /// base64url of the pool cert's SHA-1.
    Raw(usize),
    /// The same, with `=` padding.
    Padded(usize),
    /// Old Auth0 form: base64url of the upper-case hex SHA-1 text.
    OldHex(usize),
    Garbage(String),
    NotString(Value),
}

#[derive(Debug, Clone)]
struct JwkSpec {
    kid: Option<Value>,
    kty: Option<Value>,
    use_: Option<Value>,
    x5t: X5t,
    x5c: X5c,
    extra: Vec<(String, Value)>,
}

#[derive(Debug, Clone)]
enum Entry {
    Key(JwkSpec),
    NotObject(Value),
}

#[derive(Debug, Clone)]
struct JwksDoc {
    entries: Vec<Entry>,
    extra: Vec<(String, Value)>,
    pretty: bool,
}

/// A JSON member value: a string, or any other JSON value.
fn member() -> impl Strategy<Value = Option<Value>> {
    prop::option::of(prop_oneof![
        3 => hostile_string().prop_map(Value::from),
        1 => any_json(),
    ])
}

fn extra_members() -> impl Strategy<Value = Vec<(String, Value)>> {
    const RESERVED: [&str; 6] = ["kid", "kty", "use", "x5t", "x5c", "keys"];
    prop::collection::vec(
        (
            "[a-z_]{1,8}".prop_filter("not reserved", |k| !RESERVED.contains(&k.as_str())),
            any_json(),
        ),
        0..4,
    )
}

fn not_string() -> impl Strategy<Value = Value> {
    any_json().prop_filter("not a string", |v| !v.is_string())
}

fn jwk_spec() -> impl Strategy<Value = JwkSpec> {
    let not_array =
        any_json().prop_filter("neither array nor null", |v| !v.is_array() && !v.is_null());
    let x5c = prop_oneof![
        1 => Just(X5c::Absent),
        1 => Just(X5c::Null),
        4 => (pool_index(), any::<bool>()).prop_map(|(c, more)| X5c::Chain(c, more)),
        1 => Just(X5c::Empty),
        1 => not_array.prop_map(X5c::NotArray),
        1 => not_string().prop_map(X5c::FirstNotString),
        1 => hostile_string().prop_map(X5c::Garbage),
    ];
    let x5t = prop_oneof![
        Just(X5t::Absent),
        pool_index().prop_map(X5t::Raw),
        pool_index().prop_map(X5t::Padded),
        pool_index().prop_map(X5t::OldHex),
        hostile_string().prop_map(X5t::Garbage),
        not_string().prop_map(X5t::NotString),
    ];
    (member(), member(), member(), x5t, x5c, extra_members()).prop_map(
        |(kid, kty, use_, x5t, x5c, extra)| JwkSpec {
            kid,
            kty,
            use_,
            x5t,
            x5c,
            extra,
        },
    )
}

fn jwks_doc() -> impl Strategy<Value = JwksDoc> {
    let entry = prop_oneof![
        4 => jwk_spec().prop_map(Entry::Key),
        1 => any_json()
            .prop_filter("not an object", |v| !v.is_object())
            .prop_map(Entry::NotObject),
    ];
    (
        prop::collection::vec(entry, 0..6),
        extra_members(),
        any::<bool>(),
    )
        .prop_map(|(entries, extra, pretty)| JwksDoc {
            entries,
            extra,
            pretty,
        })
}

fn x5t_for(x5t: &X5t) -> Option<Value> {
    let sha1 = |c: usize| hex::decode(&pool()[c].sha1_hex).unwrap();
    Some(match x5t {
        X5t::Absent => return None,
        X5t::Raw(c) => URL_SAFE_NO_PAD.encode(sha1(*c)).into(),
        X5t::Padded(c) => URL_SAFE.encode(sha1(*c)).into(),
        X5t::OldHex(c) => URL_SAFE_NO_PAD
            .encode(pool()[*c].sha1_hex.to_ascii_uppercase())
            .into(),
        X5t::Garbage(s) => s.clone().into(),
        X5t::NotString(v) => v.clone(),
    })
}

impl JwkSpec {
    fn to_json(&self) -> Value {
        let mut key: Map<String, Value> = self.extra.iter().cloned().collect();
        for (name, v) in [("kid", &self.kid), ("kty", &self.kty), ("use", &self.use_)] {
            if let Some(v) = v {
                key.insert(name.into(), v.clone());
            }
        }
        if let Some(x5t) = x5t_for(&self.x5t) {
            key.insert("x5t".into(), x5t);
        }
        let x5c = match &self.x5c {
            X5c::Absent => None,
            X5c::Null => Some(Value::Null),
            X5c::Chain(c, more) => {
                let mut chain = vec![pool()[*c].base64_der()];
                if *more {
                    chain.push(samples().1.base64_der());
                }
                Some(json!(chain))
            }
            X5c::Empty => Some(json!([])),
            X5c::NotArray(v) => Some(v.clone()),
            X5c::FirstNotString(v) => Some(json!([v, "MIIB"])),
            X5c::Garbage(s) => Some(json!([s])),
        };
        if let Some(x5c) = x5c {
            key.insert("x5c".into(), x5c);
        }
        Value::Object(key)
    }

    /// The SHA-1 the tenant facts must give for this key, when it is determined.
    fn expected_sha1(&self) -> Option<Option<String>> {
        let from_x5t = || match &self.x5t {
            X5t::Absent | X5t::NotString(_) => Some(None),
            X5t::Raw(c) | X5t::Padded(c) | X5t::OldHex(c) => {
                Some(Some(pool()[*c].sha1_hex.clone()))
            }
            X5t::Garbage(_) => None,
        };
        match &self.x5c {
            X5c::Chain(c, _) => Some(Some(pool()[*c].sha1_hex.clone())),
            X5c::Garbage(_) => None,
            _ => from_x5t(),
        }
    }

    fn assert_parsed(&self, key: &jwks::JwksKey) -> Result<(), TestCaseError> {
        let text = |v: &Option<Value>| v.as_ref().and_then(Value::as_str).map(str::to_owned);
        prop_assert_eq!(&key.kid, &text(&self.kid));
        prop_assert_eq!(&key.kty, &text(&self.kty));
        prop_assert_eq!(&key.use_, &text(&self.use_));
        prop_assert_eq!(&key.x5t, &text(&x5t_for(&self.x5t)));
        if let Some(c) = &key.cert {
            assert_published_coherent(c);
        }
        match &self.x5c {
            X5c::Absent | X5c::Null | X5c::Empty => prop_assert_eq!(&key.cert, &None),
            X5c::Chain(c, _) => {
                let got = key.cert.as_ref().unwrap();
                prop_assert_eq!(&got.sha1, &pool()[*c].sha1_hex);
                prop_assert_eq!(got.cert.as_ref().unwrap().not_after, pool()[*c].not_after);
            }
            X5c::NotArray(_) | X5c::FirstNotString(_) => {
                let got = key.cert.as_ref().unwrap();
                prop_assert!(got.sha1.is_empty() && got.cert.is_none(), "{got:?}");
            }
            X5c::Garbage(_) => prop_assert!(key.cert.as_ref().unwrap().cert.is_none()),
        }
        // x5t, when it is a SHA-1 in either form, names that SHA-1.
        if let X5t::Raw(c) | X5t::Padded(c) | X5t::OldHex(c) = &self.x5t {
            let x5t = key.x5t.as_deref().unwrap();
            prop_assert_eq!(jwks::x5t_sha1_hex(x5t), Some(pool()[*c].sha1_hex.clone()));
        }
        Ok(())
    }
}

impl JwksDoc {
    fn render(&self) -> Vec<u8> {
        let mut doc: Map<String, Value> = self.extra.iter().cloned().collect();
        let keys: Vec<Value> = self
            .entries
            .iter()
            .map(|e| match e {
                Entry::Key(k) => k.to_json(),
                Entry::NotObject(v) => v.clone(),
            })
            .collect();
        doc.insert("keys".into(), keys.into());
        let doc = Value::Object(doc);
        if self.pretty {
            serde_json::to_vec_pretty(&doc).unwrap()
        } else {
            serde_json::to_vec(&doc).unwrap()
        }
    }

    fn specs(&self) -> Vec<&JwkSpec> {
        self.entries
            .iter()
            .filter_map(|e| match e {
                Entry::Key(k) => Some(k),
                Entry::NotObject(_) => None,
            })
            .collect()
    }
}

/// What must hold of any JWKS body: `tenant_jwks` agrees with `parse` (one fact per key, with
/// its kid, and SHA-1s that are lowercase hex), and every certificate is coherent.
fn assert_jwks_coherent(body: &[u8]) -> Result<(), TestCaseError> {
    let parsed = jwks::parse(body);
    let facts = collect::tenant_jwks(body);
    match (&parsed, &facts) {
        (Ok(p), Ok(f)) => {
            prop_assert_eq!(p.keys.len(), f.len());
            for (key, fact) in p.keys.iter().zip(f) {
                prop_assert_eq!(&key.kid, &fact.kid);
                prop_assert!(fact.sha1.as_deref().is_none_or(is_sha1_hex), "{fact:?}");
                if let Some(c) = &key.cert {
                    assert_published_coherent(c);
                }
            }
        }
        (Err(e), Err(f)) => prop_assert_eq!(&e.to_string(), f),
        _ => prop_assert!(false, "parse {parsed:?} but tenant_jwks {facts:?}"),
    }
    if let Ok(uri) = jwks::discovery_jwks_uri(body) {
        prop_assert!(url::Url::parse(&uri).is_ok(), "{uri}");
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum JsonMutation {
    Damage(Damage),
    /// A key nested this deep in arrays.
    DeepNesting(usize),
}

fn json_mutation() -> impl Strategy<Value = JsonMutation> {
    prop_oneof![
        3 => damage().prop_map(JsonMutation::Damage),
        1 => (1usize..200_000).prop_map(JsonMutation::DeepNesting),
    ]
}

/// A discovery document's `jwks_uri`, and whether it must be accepted.
fn jwks_uri() -> impl Strategy<Value = (Value, bool)> {
    let absolute = (
        "https?://[a-z][a-z0-9-]{0,10}(\\.[a-z]{2,5}){1,2}(:[1-9][0-9]{0,3})?",
        "(/[A-Za-z0-9._~-]{1,10}){0,3}",
        "[ \t\n]{0,2}",
    )
        .prop_map(|(origin, path, pad)| (Value::from(format!("{pad}{origin}{path}{pad}")), true));
    prop_oneof![
        3 => absolute,
        1 => "(/[A-Za-z0-9._~-]{1,10}){0,3}".prop_map(|p| (Value::from(p), false)),
        1 => any_json()
            .prop_filter("not a string", |v| !v.is_string())
            .prop_map(|v| (v, false)),
    ]
}

proptest! {
    #![proptest_config(budget())]

    #[test]
    fn jwks_valid_documents_parse_key_by_key(doc in jwks_doc()) {
        let body = doc.render();
        let parsed = jwks::parse(&body).unwrap();
        let specs = doc.specs();
        prop_assert_eq!(parsed.skipped, doc.entries.len() - specs.len());
        prop_assert_eq!(parsed.keys.len(), specs.len());
        for (spec, key) in specs.iter().zip(&parsed.keys) {
            spec.assert_parsed(key)?;
        }
        let facts = collect::tenant_jwks(&body).unwrap();
        for (spec, fact) in specs.iter().zip(&facts) {
            if let Some(sha1) = spec.expected_sha1() {
                prop_assert_eq!(&fact.sha1, &sha1, "{:?}", spec);
            }
        }
        assert_jwks_coherent(&body)?;
    }

    #[test]
    fn jwks_mutated_documents_are_ok_or_err_and_never_panic(doc in jwks_doc(),
                                                            mutation in json_mutation()) {
        let body = doc.render();
        let mutated = match &mutation {
            JsonMutation::Damage(damage) => {
                let b = damage.apply(&body);
                if let Damage::Truncate(_) = damage {
                    prop_assert!(matches!(jwks::parse(&b), Err(jwks::Error::NotJson(_))));
                }
                b
            }
            JsonMutation::DeepNesting(depth) => {
                let deep = format!(r#"{{"keys":[{}{{"kid":"deep"}}{}],"jwks_uri":"https://x.example"}}"#,
                                   "[".repeat(*depth), "]".repeat(*depth));
                let doc = deep.clone();
                let out = returns_within(Duration::from_secs(60), move || {
                    (jwks::parse(doc.as_bytes()), jwks::discovery_jwks_uri(doc.as_bytes()))
                });
                // Past serde_json's recursion limit the document is refused, never a stack overflow.
                if *depth > 200 {
                    prop_assert!(matches!(out, (Err(jwks::Error::NotJson(_)), Err(jwks::Error::NotJson(_)))), "{out:?}");
                }
                deep.into_bytes()
            }
        };
        assert_jwks_coherent(&mutated)?;
    }

    #[test]
    fn jwks_arbitrary_json_and_bytes_never_panic(v in any_json(),
                                                  keys in prop::collection::vec(any_json(), 0..4),
                                                  bytes in prop::collection::vec(any::<u8>(), 0..1024),
                                                  text in hostile_string()) {
        let wrapped = serde_json::to_vec(&json!({"keys": keys, "jwks_uri": v})).unwrap();
        let plain = serde_json::to_vec(&v).unwrap();
        for body in [&wrapped[..], &plain[..], &bytes[..], text.as_bytes()] {
            assert_jwks_coherent(body)?;
        }
        for s in [text.as_str(), &String::from_utf8_lossy(&bytes)] {
            if let Some(hex) = jwks::x5t_sha1_hex(s) {
                prop_assert!(is_sha1_hex(&hex), "{hex}");
            }
        }
    }

    #[test]
    fn jwks_x5t_of_any_sha1_in_either_form_is_that_sha1(sha1 in prop::array::uniform20(any::<u8>())) {
        let hex = hex::encode(sha1);
        for x5t in [
            URL_SAFE_NO_PAD.encode(sha1),
            URL_SAFE.encode(sha1),
            URL_SAFE_NO_PAD.encode(hex.to_ascii_uppercase()),
            URL_SAFE_NO_PAD.encode(&hex),
        ] {
            prop_assert_eq!(jwks::x5t_sha1_hex(&x5t), Some(hex.clone()), "{}", x5t);
        }
        // Standard base64 of the same bytes is accepted only when it is also base64url.
        let std = STANDARD.encode(sha1);
        if std.contains(['+', '/']) {
            prop_assert_eq!(jwks::x5t_sha1_hex(&std), None);
        }
    }

    #[test]
    fn discovery_documents_give_their_absolute_jwks_uri((uri, ok) in jwks_uri(),
                                                         extra in extra_members()) {
        let mut doc: Map<String, Value> = extra.into_iter().collect();
        doc.insert("issuer".into(), "https://login.example.com/".into());
        doc.insert("jwks_uri".into(), uri.clone());
        let body = serde_json::to_vec(&doc).unwrap();
        match jwks::discovery_jwks_uri(&body) {
            Ok(got) => {
                prop_assert!(ok, "{uri} accepted");
                prop_assert_eq!(Some(got.as_str()), uri.as_str().map(str::trim));
            }
            Err(e) => {
                prop_assert!(!ok, "{uri} refused: {e}");
                prop_assert!(matches!(e, jwks::Error::NoJwksUri(_)), "{e:?}");
            }
        }
    }
}
