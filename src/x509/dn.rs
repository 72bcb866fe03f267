//! Distinguished names as text (docs/findings.md): exactly what
//! `openssl x509 -noout -subject -nameopt esc_2253,esc_ctrl,utf8,dump_nostr,dump_der,sep_comma_plus_space,sname`
//! prints, without its `subject=` prefix.
//!
//! - RDNs in the order the certificate encodes them (as certwatch always printed them, and as
//!   openssl's default `oneline` does; RFC 4514 would reverse them), separated by `", "`; the
//!   attributes of a multi-valued RDN by `" + "`.
//! - Attribute names are openssl's short names (`CN`, `O`, `emailAddress`, `serialNumber`,
//!   `organizationIdentifier`, `jurisdictionC`, …) for every OID openssl names, and the dotted
//!   OID (`1.2.3.4=…`) for any other.
//! - Values: string types are decoded (T61String as Latin-1, BMPString as UCS-2, UniversalString
//!   as UCS-4) and printed as UTF-8 with RFC 4514 escapes (`\,` `\+` `\"` `\\` `\<` `\>` `\;`, a
//!   leading `\#` or `\ `, a trailing `\ `) and control characters as `\XX`. A value of any
//!   other type (or a string type openssl does not decode) is `#` and the uppercase hex of its DER.

use x509_parser::der_parser::asn1_rs::{Any, Class, Tag, ToDer};
use x509_parser::x509::X509Name;

/// The text of a distinguished name (see the module documentation).
pub fn format(name: &X509Name<'_>) -> String {
    name.iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type().to_id_string();
                    let key = attribute_name(&oid).map_or(oid.clone(), str::to_owned);
                    format!("{key}={}", value(atv.attr_value()))
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// openssl's short name of a name attribute, by dotted OID (openssl 3.0's `obj_mac` table, for
/// the X.520, PKCS #9, pilot (RFC 4519), EV jurisdiction and Russian registry attributes).
pub fn attribute_name(oid: &str) -> Option<&'static str> {
    let x520 = |n: u32| -> Option<&'static str> {
        Some(match n {
            3 => "CN",
            4 => "SN",
            5 => "serialNumber",
            6 => "C",
            7 => "L",
            8 => "ST",
            9 => "street",
            10 => "O",
            11 => "OU",
            12 => "title",
            13 => "description",
            14 => "searchGuide",
            15 => "businessCategory",
            16 => "postalAddress",
            17 => "postalCode",
            18 => "postOfficeBox",
            19 => "physicalDeliveryOfficeName",
            20 => "telephoneNumber",
            21 => "telexNumber",
            22 => "teletexTerminalIdentifier",
            23 => "facsimileTelephoneNumber",
            24 => "x121Address",
            25 => "internationaliSDNNumber",
            26 => "registeredAddress",
            27 => "destinationIndicator",
            28 => "preferredDeliveryMethod",
            29 => "presentationAddress",
            30 => "supportedApplicationContext",
            31 => "member",
            32 => "owner",
            33 => "roleOccupant",
            34 => "seeAlso",
            35 => "userPassword",
            36 => "userCertificate",
            37 => "cACertificate",
            38 => "authorityRevocationList",
            39 => "certificateRevocationList",
            40 => "crossCertificatePair",
            41 => "name",
            42 => "GN",
            43 => "initials",
            44 => "generationQualifier",
            45 => "x500UniqueIdentifier",
            46 => "dnQualifier",
            47 => "enhancedSearchGuide",
            48 => "protocolInformation",
            49 => "distinguishedName",
            50 => "uniqueMember",
            51 => "houseIdentifier",
            52 => "supportedAlgorithms",
            53 => "deltaRevocationList",
            54 => "dmdName",
            65 => "pseudonym",
            72 => "role",
            97 => "organizationIdentifier",
            98 => "c3",
            99 => "n3",
            100 => "dnsName",
            _ => return None,
        })
    };
    let pkcs9 = |n: u32| -> Option<&'static str> {
        Some(match n {
            1 => "emailAddress",
            2 => "unstructuredName",
            3 => "contentType",
            4 => "messageDigest",
            5 => "signingTime",
            6 => "countersignature",
            7 => "challengePassword",
            8 => "unstructuredAddress",
            9 => "extendedCertificateAttributes",
            14 => "extReq",
            15 => "SMIME-CAPS",
            16 => "SMIME",
            20 => "friendlyName",
            21 => "localKeyID",
            _ => return None,
        })
    };
    let last = |prefix: &str| -> Option<u32> { oid.strip_prefix(prefix)?.parse().ok() };
    if let Some(n) = last("2.5.4.") {
        return x520(n);
    }
    if let Some(n) = last("1.2.840.113549.1.9.") {
        return pkcs9(n);
    }
    if let Some(n) = last("0.9.2342.19200300.100.1.") {
        return pilot(n);
    }
    Some(match oid {
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        "1.2.643.3.131.1.1" => "INN",
        "1.2.643.100.1" => "OGRN",
        "1.2.643.100.3" => "SNILS",
        "1.2.643.100.5" => "OGRNIP",
        "1.2.643.100.111" => "subjectSignTool",
        "1.2.643.100.112" => "issuerSignTool",
        "1.2.643.100.113" => "classSignTool",
        "1.3.6.1.5.5.7.9.1" => "id-pda-dateOfBirth",
        "1.3.6.1.5.5.7.9.2" => "id-pda-placeOfBirth",
        "1.3.6.1.5.5.7.9.3" => "id-pda-gender",
        "1.3.6.1.5.5.7.9.4" => "id-pda-countryOfCitizenship",
        "1.3.6.1.5.5.7.9.5" => "id-pda-countryOfResidence",
        _ => return None,
    })
}

/// The pilot (RFC 1274 / RFC 4519) attributes under `0.9.2342.19200300.100.1.`.
fn pilot(n: u32) -> Option<&'static str> {
    const NAMES: [&str; 56] = [
        "UID",
        "textEncodedORAddress",
        "mail",
        "info",
        "favouriteDrink",
        "roomNumber",
        "photo",
        "userClass",
        "host",
        "manager",
        "documentIdentifier",
        "documentTitle",
        "documentVersion",
        "documentAuthor",
        "documentLocation",
        "",
        "",
        "",
        "",
        "homeTelephoneNumber",
        "secretary",
        "otherMailbox",
        "lastModifiedTime",
        "lastModifiedBy",
        "DC",
        "aRecord",
        "pilotAttributeType27",
        "mXRecord",
        "nSRecord",
        "sOARecord",
        "cNAMERecord",
        "",
        "",
        "",
        "",
        "",
        "associatedDomain",
        "associatedName",
        "homePostalAddress",
        "personalTitle",
        "mobileTelephoneNumber",
        "pagerTelephoneNumber",
        "friendlyCountryName",
        "uid",
        "organizationalStatus",
        "janetMailbox",
        "mailPreferenceOption",
        "buildingName",
        "dSAQuality",
        "singleLevelQuality",
        "subtreeMinimumQuality",
        "subtreeMaximumQuality",
        "personalSignature",
        "dITRedirect",
        "audio",
        "documentPublisher",
    ];
    let name = *NAMES.get(usize::try_from(n).ok()?.checked_sub(1)?)?;
    (!name.is_empty()).then_some(name)
}

/// One attribute value as openssl prints it.
fn value(any: &Any<'_>) -> String {
    match decode_string(any) {
        Some(chars) => escape(&chars),
        None => {
            let der = any.to_der_vec().unwrap_or_default();
            format!("#{}", hex::encode_upper(der))
        }
    }
}

/// The characters of a string type openssl decodes (its `tag2nbyte` table); `None` for any
/// other type, which is dumped as DER.
fn decode_string(any: &Any<'_>) -> Option<Vec<char>> {
    if any.header.class() != Class::Universal || any.header.is_constructed() {
        return None;
    }
    let data = any.data;
    let latin1 = || data.iter().map(|&b| char::from(b)).collect();
    let units = |width: usize| {
        data.chunks(width)
            .map(|c| {
                let code = c.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b));
                char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect()
    };
    match any.tag() {
        Tag::Utf8String => Some(String::from_utf8_lossy(data).chars().collect()),
        Tag::NumericString
        | Tag::PrintableString
        | Tag::T61String
        | Tag::Ia5String
        | Tag::UtcTime
        | Tag::GeneralizedTime
        | Tag::VisibleString => Some(latin1()),
        Tag::UniversalString => Some(units(4)),
        Tag::BmpString => Some(units(2)),
        _ => None,
    }
}

/// RFC 4514 escapes (openssl's `esc_2253`) and `\XX` for control characters (`esc_ctrl`).
fn escape(chars: &[char]) -> String {
    let mut out = String::with_capacity(chars.len());
    let last = chars.len().saturating_sub(1);
    for (i, &c) in chars.iter().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && matches!(c, '#' | ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
            out.push(c);
        } else if c.is_ascii_control() {
            out.push_str(&format!("\\{:02X}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests;
