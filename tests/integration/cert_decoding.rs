//! Certificate decoding against generated input: every encoding of a valid certificate decodes
//! to it, every break (truncation, overwritten or inserted text) is an error, and arbitrary text
//! or bytes never panic. The stable-toolchain twin of the `x509_decode` cargo-fuzz target.

use crate::generators::*;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use certwatch::x509;
use proptest::prelude::*;

/// Whatever `decode` returns must be coherent: hex thumbprints of the DER `leaf_der` extracts,
/// or an error with a message.
fn assert_coherent(input: &str) -> Result<x509::CertInfo, x509::Error> {
    let out = x509::decode(input);
    match &out {
        Ok(info) => {
            let der = x509::leaf_der(input).expect("decodes, so the DER is extractable");
            assert_eq!(info.sha1, x509::sha1_hex(&der));
            assert_eq!(info.sha256.len(), 64);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    out
}

proptest! {
    #![proptest_config(budget())]

    #[test]
    fn x509_every_encoding_decodes_and_every_break_is_an_error(shape in cert_shape()) {
        let (input, intact) = shape.render();
        let want = &samples().0;
        match assert_coherent(&input) {
            Ok(info) => {
                if intact {
                    prop_assert_eq!(&info.sha1, &want.sha1_hex);
                    prop_assert_eq!(info.not_after, want.not_after);
                }
            }
            Err(e) => prop_assert!(!intact, "{shape:?} must decode: {e}"),
        }
        // Nothing cut short can pass for the certificate.
        if matches!(shape, CertShape::TruncatedPem(_) | CertShape::TruncatedDer(_)) {
            prop_assert!(x509::decode(&input).is_err(), "{shape:?} decoded");
        }
    }

    #[test]
    fn x509_arbitrary_text_and_bytes_never_panic(
        text in hostile_string(),
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let _ = assert_coherent(&text);
        let _ = assert_coherent(&STANDARD.encode(&bytes));
        let _ = assert_coherent(&URL_SAFE_NO_PAD.encode(&bytes));
        let _ = assert_coherent(&x509::der_to_pem(&bytes, "\r\n"));
        let _ = assert_coherent(&STANDARD.encode(x509::der_to_pem(&bytes, "\n")));
        let _ = x509::decode_der(&bytes);
    }
}
