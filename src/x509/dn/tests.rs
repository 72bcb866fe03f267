//! Names against what openssl prints for the same certificates (tests/fixtures/x509/dn, made by
//! its gen-dn-fixtures.sh), and the cases openssl's `req` cannot produce, built by hand.

use super::*;
use x509_parser::prelude::FromDer as _;

fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/x509/dn")
}

#[test]
fn every_fixture_prints_as_openssl_prints_it() {
    let expected = std::fs::read_to_string(fixtures().join("expected.txt")).unwrap();
    let mut seen = 0;
    for line in expected.lines() {
        let (file, subject) = line.split_once('\t').unwrap();
        let pem = std::fs::read_to_string(fixtures().join(file)).unwrap();
        let info = crate::x509::decode(&pem).unwrap();
        assert_eq!(info.subject, subject, "{file}");
        assert_eq!(info.issuer, subject, "{file} is self-signed");
        seen += 1;
    }
    assert!(seen >= 5, "{seen} fixtures");
}

/// DER of a one-attribute name: SEQUENCE { SET { SEQUENCE { OID, value } } }.
fn name_der(oid: &[u8], value: &[u8]) -> Vec<u8> {
    let tlv = |tag: u8, content: &[u8]| {
        let mut v = vec![tag, u8::try_from(content.len()).unwrap()];
        v.extend_from_slice(content);
        v
    };
    let mut atv = tlv(0x06, oid);
    atv.extend_from_slice(value);
    tlv(0x30, &tlv(0x31, &tlv(0x30, &atv)))
}

fn print(der: &[u8]) -> String {
    let (rest, name) = X509Name::from_der(der).unwrap();
    assert!(rest.is_empty());
    format(&name)
}

#[test]
fn unknown_attributes_are_dotted_oids_and_other_values_are_der_hex() {
    // 1.2.3.4 (06 03 2A 03 04) is named by nobody.
    let oid = [0x2A, 0x03, 0x04];
    assert_eq!(print(&name_der(&oid, b"\x0C\x02hi")), "1.2.3.4=hi");
    // An INTEGER, and a GeneralString (a string type openssl does not decode): DER as hex.
    assert_eq!(print(&name_der(&oid, b"\x02\x01\x05")), "1.2.3.4=#020105");
    assert_eq!(print(&name_der(&oid, b"\x1B\x01A")), "1.2.3.4=#1B0141");
    // organizationIdentifier (2.5.4.97) has an openssl name; x509-parser printed OID(2.5.4.97).
    let org_id = [0x55, 0x04, 0x61];
    assert_eq!(
        print(&name_der(&org_id, b"\x13\x05VAT-1")),
        "organizationIdentifier=VAT-1"
    );
    // UniversalString (UCS-4) and an empty value.
    assert_eq!(
        print(&name_der(&[0x55, 0x04, 0x03], b"\x1C\x04\x00\x00\x00\xE9")),
        "CN=é"
    );
    assert_eq!(print(&name_der(&[0x55, 0x04, 0x03], b"\x0C\x00")), "CN=");
}

#[test]
fn attribute_names_follow_openssl() {
    for (oid, name) in [
        ("2.5.4.3", "CN"),
        ("2.5.4.5", "serialNumber"),
        ("2.5.4.97", "organizationIdentifier"),
        ("1.2.840.113549.1.9.1", "emailAddress"),
        ("0.9.2342.19200300.100.1.1", "UID"),
        ("0.9.2342.19200300.100.1.25", "DC"),
        ("0.9.2342.19200300.100.1.56", "documentPublisher"),
        ("1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC"),
    ] {
        assert_eq!(attribute_name(oid), Some(name), "{oid}");
    }
    for unknown in [
        "2.5.4.55",
        "2.5.4.101",
        "0.9.2342.19200300.100.1.16",
        "0.9.2342.19200300.100.1.0",
        "0.9.2342.19200300.100.1.57",
        "1.2.3.4",
        "2.5.4.x",
    ] {
        assert_eq!(attribute_name(unknown), None, "{unknown}");
    }
}
