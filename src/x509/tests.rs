//! Decoding tests: every accepted encoding, and every way a value can be broken.

use super::*;
use base64::engine::general_purpose::STANDARD;
use time::macros::datetime;

fn make(cn: &str, nb: OffsetDateTime, na: OffsetDateTime) -> (String, Vec<u8>) {
    let mut params = rcgen::CertificateParams::new(vec![cn.to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.not_before = nb;
    params.not_after = na;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), cert.der().to_vec())
}

fn sample() -> (String, Vec<u8>) {
    make(
        "idp.example.com",
        datetime!(2026-01-01 0:00 UTC),
        datetime!(2027-01-01 0:00 UTC),
    )
}

#[test]
fn raw_pem_lf_and_crlf() {
    let (pem, der) = sample();
    let a = decode(&pem).unwrap();
    let b = decode(&pem.replace('\n', "\r\n")).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.not_after, datetime!(2027-01-01 0:00 UTC));
    assert_eq!(a.not_before, datetime!(2026-01-01 0:00 UTC));
    assert_eq!(a.sha1, sha1_hex(&der));
    assert_eq!(a.sha1.len(), 40);
    assert_eq!(a.sha256.len(), 64);
    assert!(a.subject.contains("CN=idp.example.com"), "{}", a.subject);
}

#[test]
fn base64_of_pem_and_base64_der() {
    let (pem, der) = sample();
    let want = decode(&pem).unwrap();
    let b64_pem = STANDARD.encode(pem.replace('\n', "\r\n"));
    assert_eq!(decode(&b64_pem).unwrap(), want);
    assert_eq!(decode(&STANDARD.encode(&der)).unwrap(), want);
    // Line-wrapped base64 DER and missing padding are accepted too.
    let wrapped = STANDARD
        .encode(&der)
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(decode(&wrapped).unwrap(), want);
    assert_eq!(
        decode(STANDARD.encode(&der).trim_end_matches('=')).unwrap(),
        want
    );
}

#[test]
fn literal_backslash_n_escapes() {
    let (pem, _) = sample();
    let escaped = pem.replace('\n', "\\n");
    assert_eq!(decode(&escaped).unwrap(), decode(&pem).unwrap());
    let escaped_crlf = pem.replace('\n', "\\r\\n");
    assert_eq!(decode(&escaped_crlf).unwrap(), decode(&pem).unwrap());
}

#[test]
fn chain_leaf_counts() {
    let (leaf, _) = make(
        "leaf.example.com",
        datetime!(2026-01-01 0:00 UTC),
        datetime!(2026-06-01 0:00 UTC),
    );
    let (ca, _) = make(
        "ca.example.com",
        datetime!(2020-01-01 0:00 UTC),
        datetime!(2040-01-01 0:00 UTC),
    );
    let info = decode(&format!("{leaf}\n{ca}")).unwrap();
    assert_eq!(info.not_after, datetime!(2026-06-01 0:00 UTC));
    assert!(info.subject.contains("leaf.example.com"));
}

#[test]
fn recorded_auth0_connection_key_thumbprint_matches() {
    // The real cert and thumbprint from recorded/connection-keys-list-after-rotate.go-auth0.json.
    let body: serde_json::Value = serde_json::from_str(include_str!(
        "../../tests/fixtures/auth0/connection-keys-list-after-rotate.go-auth0.json"
    ))
    .unwrap();
    for key in body.as_array().unwrap() {
        let info = decode(key["cert"].as_str().unwrap()).unwrap();
        assert_eq!(
            info.sha1,
            normalize_thumbprint(key["thumbprint"].as_str().unwrap())
        );
        assert_eq!(
            info.sha1,
            normalize_thumbprint(key["fingerprint"].as_str().unwrap())
        );
        assert_eq!(info.not_after.year(), 2026);
    }
}

#[test]
fn recorded_samlp_base64_signing_cert_matches_thumbprint_and_expires() {
    let body: serde_json::Value = serde_json::from_str(include_str!(
        "../../tests/fixtures/auth0/samlp-connection-get-metadataXml-derived.terraform.json"
    ))
    .unwrap();
    let opts = &body["options"];
    let from_signing = decode(opts["signingCert"].as_str().unwrap()).unwrap();
    let from_cert = decode(opts["cert"].as_str().unwrap()).unwrap();
    assert_eq!(from_signing, from_cert);
    assert_eq!(from_cert.sha1, opts["thumbprints"][0].as_str().unwrap());
    let expires = OffsetDateTime::parse(
        opts["expires"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(from_cert.not_after, expires);
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    assert_eq!(decode(""), Err(Error::Empty));
    assert_eq!(decode("   \n "), Err(Error::Empty));
    assert!(matches!(
        decode("not a certificate!"),
        Err(Error::Encoding(_))
    ));
    assert!(
        matches!(decode("aGVsbG8gd29ybGQ="), Err(Error::Der(_))),
        "base64 of 'hello world'"
    );
    assert!(matches!(
        decode("-----BEGIN CERTIFICATE-----\nMIIB\n"),
        Err(Error::Pem(_))
    ));
    assert!(matches!(
        decode("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----"),
        Err(Error::Pem(_))
    ));
    assert_eq!(
        decode("-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----"),
        Err(Error::NotACertificate("PUBLIC KEY".into()))
    );
}

#[test]
fn truncated_der_is_an_error() {
    let (_, der) = sample();
    for cut in [1, 10, der.len() / 2, der.len() - 1] {
        let err = decode_der(&der[..cut]).unwrap_err();
        assert!(matches!(err, Error::Der(_)), "cut {cut}: {err:?}");
        assert!(err.to_string().contains("truncated"), "cut {cut}: {err}");
        let err = decode(&STANDARD.encode(&der[..cut])).unwrap_err();
        assert!(matches!(err, Error::Der(_)), "cut {cut}: {err:?}");
    }
}

#[test]
fn not_yet_valid_and_expired_dates_are_reported_as_is() {
    let (future, _) = make(
        "future.example.com",
        datetime!(2030-01-01 0:00 UTC),
        datetime!(2031-01-01 0:00 UTC),
    );
    let (past, _) = make(
        "past.example.com",
        datetime!(2010-01-01 0:00 UTC),
        datetime!(2011-01-01 0:00 UTC),
    );
    assert_eq!(
        decode(&future).unwrap().not_before,
        datetime!(2030-01-01 0:00 UTC)
    );
    assert_eq!(
        decode(&past).unwrap().not_after,
        datetime!(2011-01-01 0:00 UTC)
    );
}

#[test]
fn der_to_pem_round_trips() {
    let (_, der) = sample();
    let pem = der_to_pem(&der, "\r\n");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\r\n"));
    assert_eq!(leaf_der(&pem).unwrap(), der);
}

#[test]
fn thumbprint_normalisation() {
    assert_eq!(normalize_thumbprint("CC:FB:DD"), "ccfbdd");
    assert_eq!(normalize_thumbprint("CCFBDD"), "ccfbdd");
}

proptest::proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(s in ".{0,300}") {
        let _ = decode(&s);
    }

    #[test]
    fn never_panics_on_arbitrary_der(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        let _ = decode_der(&bytes);
        let _ = decode(&STANDARD.encode(&bytes));
    }
}
