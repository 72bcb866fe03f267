//! What the property tests share: the case budget (fixed seed, so CI runs the same cases every
//! time), two sample certificates, every way a certificate can arrive (intact or broken),
//! hostile strings and arbitrary JSON.

use crate::helpers::cert;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use certwatch::sim::GeneratedCert;
use proptest::prelude::*;
use serde_json::Value;
use std::sync::OnceLock;

/// The generators' budget: 256 cases from a fixed seed, so CI runs the same cases every time.
/// `PROPTEST_CASES=100000 PROPTEST_RNG_SEED=<n>` explores further locally.
pub fn budget() -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = 256;
    }
    if c.rng_seed == proptest::test_runner::RngSeed::Random {
        c.rng_seed = proptest::test_runner::RngSeed::Fixed(0x6365_7274_7761_7463);
    }
    // Deterministic runs need no regression files; findings get a named test instead.
    c.failure_persistence = None;
    c
}

pub fn samples() -> &'static (GeneratedCert, GeneratedCert) {
    static S: OnceLock<(GeneratedCert, GeneratedCert)> = OnceLock::new();
    S.get_or_init(|| (cert("leaf.fuzz.example", 90), cert("ca.fuzz.example", 900)))
}

/// Ways a valid certificate can arrive; `true` when the value must still decode to it.
#[derive(Debug, Clone)]
pub enum CertShape {
    Lf,
    Crlf,
    EscapedLf,
    EscapedCrlf,
    Base64Pem,
    Base64Der,
    Wrapped(usize),
    NoPadding,
    Padded(String, String),
    ChainLeafFirst,
    /// The PEM text cut before its end.
    TruncatedPem(prop::sample::Index),
    /// Base64 of the DER cut short.
    TruncatedDer(prop::sample::Index),
    /// A byte of the PEM replaced.
    Overwritten(prop::sample::Index, char),
    /// Text inserted somewhere.
    Inserted(prop::sample::Index, String),
}

impl CertShape {
    pub fn render(&self) -> (String, bool) {
        let leaf = &samples().0;
        let pem = leaf.pem.trim_end().to_string();
        let b64 = STANDARD.encode(&leaf.der);
        match self {
            CertShape::Lf => (pem, true),
            CertShape::Crlf => (pem.replace('\n', "\r\n"), true),
            CertShape::EscapedLf => (pem.replace('\n', "\\n"), true),
            CertShape::EscapedCrlf => (pem.replace('\n', "\\r\\n"), true),
            CertShape::Base64Pem => (STANDARD.encode(pem.replace('\n', "\r\n")), true),
            CertShape::Base64Der => (b64, true),
            CertShape::Wrapped(w) => (
                b64.as_bytes()
                    .chunks(*w)
                    .map(|c| std::str::from_utf8(c).unwrap())
                    .collect::<Vec<_>>()
                    .join("\r\n"),
                true,
            ),
            CertShape::NoPadding => (b64.trim_end_matches('=').to_string(), true),
            CertShape::Padded(a, b) => (format!("{a}{pem}{b}"), true),
            CertShape::ChainLeafFirst => (format!("{pem}\n{}", samples().1.pem), true),
            CertShape::TruncatedPem(i) => (pem[..i.index(pem.len())].to_string(), false),
            CertShape::TruncatedDer(i) => {
                let der = &leaf.der[..i.index(leaf.der.len())];
                (STANDARD.encode(der), false)
            }
            CertShape::Overwritten(i, c) => {
                let mut chars: Vec<char> = pem.chars().collect();
                let at = i.index(chars.len());
                chars[at] = *c;
                (chars.into_iter().collect(), false)
            }
            CertShape::Inserted(i, s) => {
                let at = i.index(pem.len());
                (format!("{}{s}{}", &pem[..at], &pem[at..]), false)
            }
        }
    }
}

pub fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\"'\\</script><script>alert(1)</script>\r\n\t\0".to_string()),
        Just("é漢字🙂\u{202e}\u{feff}".to_string()),
        Just("-----BEGIN CERTIFICATE-----".to_string()),
        Just("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----".to_string()),
        Just("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----".to_string()),
        Just("\\n\\r\\n\\".to_string()),
        "[A-Za-z0-9+/=\\-_ \n]{0,64}",
        any::<String>(),
        Just("x".repeat(10_000)),
        Just("-".repeat(10_000)),
    ]
}

pub fn cert_shape() -> impl Strategy<Value = CertShape> {
    prop_oneof![
        Just(CertShape::Lf),
        Just(CertShape::Crlf),
        Just(CertShape::EscapedLf),
        Just(CertShape::EscapedCrlf),
        Just(CertShape::Base64Pem),
        Just(CertShape::Base64Der),
        (1usize..200).prop_map(CertShape::Wrapped),
        Just(CertShape::NoPadding),
        ("[ \t\r\n]{0,4}", "[ \t\r\n]{0,4}").prop_map(|(a, b)| CertShape::Padded(a, b)),
        Just(CertShape::ChainLeafFirst),
        any::<prop::sample::Index>().prop_map(CertShape::TruncatedPem),
        any::<prop::sample::Index>().prop_map(CertShape::TruncatedDer),
        (any::<prop::sample::Index>(), any::<char>())
            .prop_map(|(i, c)| CertShape::Overwritten(i, c)),
        (any::<prop::sample::Index>(), hostile_string())
            .prop_map(|(i, s)| CertShape::Inserted(i, s)),
    ]
}

/// Any JSON value, hostile strings included.
pub fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        hostile_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
