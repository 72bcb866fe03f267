//! `certwatch::x509::decode` on arbitrary text, and on arbitrary bytes wrapped in every encoding
//! Auth0 hands out (PEM with LF / CRLF, PEM with literal `\n` escapes, base64 of PEM, base64 of
//! DER, line-wrapped base64), plus `decode_der` on the raw bytes. The first input byte picks the
//! encoding; the rest is the payload.
//!
//! Invariants: never panics; a decoded certificate's thumbprints are lowercase hex of the right
//! length and match the DER that `leaf_der` extracts.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use certwatch::x509;
use libfuzzer_sys::fuzz_target;

fn check(input: &str) {
    match x509::decode(input) {
        Ok(info) => {
            assert_eq!(info.sha1.len(), 40);
            assert_eq!(info.sha256.len(), 64);
            assert!(
                info.sha1
                    .bytes()
                    .chain(info.sha256.bytes())
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            );
            let der = x509::leaf_der(input).expect("decode succeeded, so leaf_der does");
            assert_eq!(x509::sha1_hex(&der), info.sha1);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, payload)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(payload);
    let _ = x509::decode_der(payload);
    match mode % 8 {
        0 => check(&text),
        1 => check(&x509::der_to_pem(payload, "\n")),
        2 => check(&x509::der_to_pem(payload, "\r\n")),
        3 => check(&x509::der_to_pem(payload, "\r\n").replace("\r\n", "\\r\\n")),
        4 => check(&STANDARD.encode(x509::der_to_pem(payload, "\r\n"))),
        5 => check(&STANDARD.encode(payload)),
        6 => {
            let b64 = STANDARD.encode(payload);
            let wrapped: Vec<&str> = b64
                .as_bytes()
                .chunks(64)
                .map(|c| std::str::from_utf8(c).unwrap_or_default())
                .collect();
            check(&wrapped.join("\n"));
        }
        _ => check(&URL_SAFE_NO_PAD.encode(payload)),
    }
});
