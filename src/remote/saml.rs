//! Pure parser of SAML 2.0 IdP metadata and ADFS `FederationMetadata.xml`: bytes → the IdP's
//! entity id, `validUntil` and published signing certificates. No I/O, no clock.
//!
//! Rules (docs/findings.md; proven on the real documents of tests/fixtures/idp):
//! - A UTF-8 byte order mark is skipped. Elements are matched by namespace URI and local name,
//!   never by prefix (metadata in the wild uses `md:`, `ds:`, `dsig:`, `saml2md:`, `ns0:`/`ns2:`
//!   or default namespaces).
//! - The IdP is the first `md:EntityDescriptor` (document order) with an IdP role: an
//!   `md:IDPSSODescriptor`, or (ADFS) an `md:RoleDescriptor` whose `xsi:type` is
//!   `fed:SecurityTokenServiceType`. In an aggregate, SP entities and every later IdP entity are
//!   ignored (an Auth0 connection trusts one IdP; unioning the federation's certificates would
//!   propose strangers' certificates); [`Metadata::idp_entities`] says how many there were.
//! - Signing certificates are the `X509Certificate` values (xmldsig namespace, or no namespace
//!   when a `KeyInfo` forgot to prefix its children) inside that entity's IdP-role
//!   `md:KeyDescriptor`s whose `use` is `signing` or absent (absent means both uses). Encryption
//!   keys, other roles (SP, attribute authority, `fed:ApplicationServiceType`) and the
//!   certificate in the document's own `ds:Signature` never count. Certificates are deduplicated
//!   by SHA-1 and kept in document order; values that are not even base64 (empty SHA-1) are all
//!   kept. A value that does not decode as an X.509 certificate (truncated, base64 of a PEM
//!   text, a placeholder) stays in the list with its `error` and no `cert`: it is published, but
//!   never a certificate to trust.
//! - `valid_until` is the earliest `validUntil` of the IdP entity and its enclosing
//!   `md:EntitiesDescriptor`s.
//! - The XML parser (`roxmltree`) is non-validating, never fetches anything, refuses DTDs (so no
//!   entity expansion) and caps the node count. Hostile input gives an `Error`, never a panic.
//!   The document's signature is not verified: this module reports what the IdP publishes.

use super::PublishedCert;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// SAML 2.0 metadata namespace.
const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML digital signature namespace (`ds:`).
const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// WS-Federation namespace used by ADFS role descriptors (`fed:`).
const FED_NS: &str = "http://docs.oasis-open.org/wsfed/federation/200706";
/// XML Schema instance namespace (`xsi:type`).
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// Largest number of XML nodes parsed (a real metadata document has a few hundred; a large
/// federation aggregate a few hundred thousand).
const MAX_NODES: u32 = 2_000_000;

/// What an IdP's metadata says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// `entityID` of the IdP entity (the first one of an aggregate).
    pub entity_id: Option<String>,
    /// Earliest `validUntil` of the IdP entity and its enclosing `EntitiesDescriptor`s.
    pub valid_until: Option<OffsetDateTime>,
    /// Signing certificates the IdP publishes, deduplicated by SHA-1, in document order (those
    /// that do not parse carry their `error`).
    pub signing: Vec<PublishedCert>,
    /// How many entities of the document have an IdP role (more than 1: an aggregate, of which
    /// only the first IdP is read).
    pub idp_entities: usize,
}

/// Why a document is not usable IdP metadata.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not well-formed XML, not UTF-8, or a DTD (refused).
    #[error("not XML: {0}")]
    NotXml(String),
    /// XML, but no SAML `EntityDescriptor` in it.
    #[error("no SAML EntityDescriptor in the document")]
    NoEntityDescriptor,
    /// Entities, but none with an IdP role (`IDPSSODescriptor` or an ADFS security token service).
    #[error("no IdP role (IDPSSODescriptor or ADFS SecurityTokenServiceType) in the metadata")]
    NoIdpRole,
    /// A `validUntil` that is not an `xs:dateTime`.
    #[error("validUntil {value:?} is not a date-time: {message}")]
    BadValidUntil {
        /// The attribute value (truncated to 64 characters).
        value: String,
        /// What is wrong with it.
        message: String,
    },
}

/// Parse SAML 2.0 / ADFS metadata.
pub fn parse(xml: &[u8]) -> Result<Metadata, Error> {
    let xml = xml.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(xml);
    let text = std::str::from_utf8(xml).map_err(|e| Error::NotXml(format!("not UTF-8 ({e})")))?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => Error::NotXml("DTDs are refused".into()),
        e => Error::NotXml(e.to_string()),
    })?;

    let entities: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name((MD_NS, "EntityDescriptor")))
        .collect();
    if entities.is_empty() {
        return Err(Error::NoEntityDescriptor);
    }
    let idps: Vec<_> = entities
        .into_iter()
        .filter(|e| e.children().any(|r| is_idp_role(&r)))
        .collect();
    let Some(entity) = idps.first() else {
        return Err(Error::NoIdpRole);
    };

    // The entity itself, then each enclosing EntitiesDescriptor.
    let mut valid_until: Option<OffsetDateTime> = None;
    let holders = entity.ancestors().filter(|n| {
        n.has_tag_name((MD_NS, "EntityDescriptor")) || n.has_tag_name((MD_NS, "EntitiesDescriptor"))
    });
    for holder in holders {
        if let Some(value) = holder.attribute("validUntil") {
            let at = parse_date_time(value)?;
            valid_until = Some(valid_until.map_or(at, |v| v.min(at)));
        }
    }

    let mut signing: Vec<PublishedCert> = Vec::new();
    let values = entity
        .children()
        .filter(is_idp_role)
        .flat_map(|role| role.children().filter(is_signing_key))
        .flat_map(|key| key.descendants().filter(is_certificate_value));
    for value in values {
        // Every text chunk: a comment or CDATA section may split the value.
        let text: String = value
            .descendants()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect();
        super::push_unique(&mut signing, PublishedCert::from_base64_der(&text));
    }

    Ok(Metadata {
        entity_id: entity.attribute("entityID").map(str::to_owned),
        valid_until,
        signing,
        idp_entities: idps.len(),
    })
}

/// `md:IDPSSODescriptor`, or an ADFS `md:RoleDescriptor xsi:type="fed:SecurityTokenServiceType"`.
fn is_idp_role(node: &roxmltree::Node<'_, '_>) -> bool {
    if node.has_tag_name((MD_NS, "IDPSSODescriptor")) {
        return true;
    }
    if !node.has_tag_name((MD_NS, "RoleDescriptor")) {
        return false;
    }
    let Some(xsi_type) = node.attribute((XSI_NS, "type")) else {
        return false;
    };
    // xsi:type is a QName: its prefix is resolved in the element's scope.
    let (prefix, local) = match xsi_type.trim().split_once(':') {
        Some((p, l)) => (Some(p), l),
        None => (None, xsi_type.trim()),
    };
    local == "SecurityTokenServiceType" && node.lookup_namespace_uri(prefix) == Some(FED_NS)
}

/// `md:KeyDescriptor` with `use="signing"` or no `use`.
fn is_signing_key(node: &roxmltree::Node<'_, '_>) -> bool {
    node.has_tag_name((MD_NS, "KeyDescriptor"))
        && node.attribute("use").is_none_or(|u| u.trim() == "signing")
}

/// `ds:X509Certificate`, or an `X509Certificate` in no namespace (a `ds:KeyInfo` whose children
/// were written without the prefix).
fn is_certificate_value(node: &roxmltree::Node<'_, '_>) -> bool {
    let name = node.tag_name();
    node.is_element()
        && name.name() == "X509Certificate"
        && matches!(name.namespace(), None | Some("" | DS_NS))
}

/// An `xs:dateTime`: RFC 3339 with or without fractional seconds; a value without a zone is
/// read as UTC (SAML requires UTC; some IdPs omit the `Z`).
fn parse_date_time(value: &str) -> Result<OffsetDateTime, Error> {
    let trimmed = value.trim();
    OffsetDateTime::parse(trimmed, &Rfc3339)
        .or_else(|e| OffsetDateTime::parse(&format!("{trimmed}Z"), &Rfc3339).map_err(|_| e))
        .map_err(|e| Error::BadValidUntil {
            value: value.chars().take(64).collect(),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::certs::{GeneratedCert, generate_cert};
    use time::macros::datetime;

    fn cert(cn: &str, year: i32) -> GeneratedCert {
        generate_cert(
            cn,
            datetime!(2024-01-01 00:00 UTC),
            datetime!(2024-06-01 00:00 UTC)
                .replace_year(year)
                .expect("valid year"),
        )
    }

    /// Base64 DER wrapped at 64 columns, as Shibboleth writes it.
    fn wrapped(c: &GeneratedCert) -> String {
        c.base64_der()
            .as_bytes()
            .chunks(64)
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect::<Vec<_>>()
            .join("\n                        ")
    }

    fn shibboleth(signing: &GeneratedCert, aa: &GeneratedCert, valid_until: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"
                  xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
                  xmlns:shibmd="urn:mace:shibboleth:metadata:1.0"
                  xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui"
                  entityID="https://idp.example.org/idp/shibboleth" validUntil="{valid_until}">
    <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol urn:mace:shibboleth:1.0">
        <Extensions>
            <shibmd:Scope regexp="false">example.org</shibmd:Scope>
            <mdui:UIInfo><mdui:DisplayName xml:lang="en">Example IdP</mdui:DisplayName></mdui:UIInfo>
        </Extensions>
        <KeyDescriptor>
            <ds:KeyInfo>
                <ds:X509Data>
                    <ds:X509Certificate>
                        {}
                    </ds:X509Certificate>
                </ds:X509Data>
            </ds:KeyInfo>
        </KeyDescriptor>
        <KeyDescriptor use="encryption">
            <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
        </KeyDescriptor>
        <NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</NameIDFormat>
        <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.org/idp/profile/SAML2/Redirect/SSO"/>
    </IDPSSODescriptor>
    <AttributeAuthorityDescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
        <KeyDescriptor use="signing">
            <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
        </KeyDescriptor>
        <AttributeService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://idp.example.org/idp/profile/SAML2/SOAP/AttributeQuery"/>
    </AttributeAuthorityDescriptor>
</EntityDescriptor>"#,
            wrapped(signing),
            aa.base64_der(),
            aa.base64_der(),
        )
    }

    fn okta(certs: &[&GeneratedCert]) -> String {
        let keys: String = certs
            .iter()
            .map(|c| {
                format!(
                    r#"<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#,
                    c.base64_der()
                )
            })
            .collect();
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="http://www.okta.com/exk1a2b3c4d5E6f7g8h9"><md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{keys}<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://example.okta.com/app/example_app/exk1a2b3c4d5E6f7g8h9/sso/saml"/></md:IDPSSODescriptor></md:EntityDescriptor>"#
        )
    }

    fn adfs_key(use_: &str, c: &GeneratedCert) -> String {
        format!(
            r#"<KeyDescriptor use="{use_}"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>"#,
            c.base64_der()
        )
    }

    /// Shaped like a real ADFS 2019 `FederationMetadata.xml` (BOM, signature first, fed: roles,
    /// SP and IdP roles), during a token-signing certificate rollover (two signing certs).
    fn adfs(
        primary: &GeneratedCert,
        secondary: &GeneratedCert,
        enc: &GeneratedCert,
        sig: &GeneratedCert,
    ) -> Vec<u8> {
        let signing = format!(
            "{}{}",
            adfs_key("signing", primary),
            adfs_key("signing", secondary)
        );
        let encryption = adfs_key("encryption", enc);
        let doc = format!(
            r##"<EntityDescriptor ID="_5b2c4a7e-0f3d-4c1e-9a8b-2d6f1e0c3b7a" entityID="http://adfs.contoso.com/adfs/services/trust" xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#_5b2c4a7e-0f3d-4c1e-9a8b-2d6f1e0c3b7a"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>q2Y0bq8m3k5mWq0oQ1w0c2s0bq8m3k5mWq0oQ1w0c2s=</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>aGVsbG8gd29ybGQ=</ds:SignatureValue><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{sig}</X509Certificate></X509Data></KeyInfo></ds:Signature><RoleDescriptor xsi:type="fed:ApplicationServiceType" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" ServiceDisplayName="Contoso ADFS">{encryption}<fed:TargetScopes><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>https://adfs.contoso.com/adfs/services/trust/2005/issuedtokenmixedasymmetricbasic256</wsa:Address></wsa:EndpointReference></fed:TargetScopes><fed:PassiveRequestorEndpoint><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>https://adfs.contoso.com/adfs/ls/</wsa:Address></wsa:EndpointReference></fed:PassiveRequestorEndpoint></RoleDescriptor><RoleDescriptor xsi:type="fed:SecurityTokenServiceType" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706" protocolSupportEnumeration="http://docs.oasis-open.org/ws-sx/ws-trust/200512 http://schemas.xmlsoap.org/ws/2005/02/trust http://docs.oasis-open.org/wsfed/federation/200706" ServiceDisplayName="Contoso ADFS">{signing}<fed:TokenTypesOffered><fed:TokenType Uri="urn:oasis:names:tc:SAML:2.0:assertion"/><fed:TokenType Uri="urn:oasis:names:tc:SAML:1.0:assertion"/></fed:TokenTypesOffered><fed:ClaimTypesOffered><auth:ClaimType Uri="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress" Optional="true" xmlns:auth="http://docs.oasis-open.org/wsfed/authorization/200706"><auth:DisplayName>E-Mail Address</auth:DisplayName></auth:ClaimType></fed:ClaimTypesOffered><fed:SecurityTokenServiceEndpoint><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>https://adfs.contoso.com/adfs/services/trust/2005/certificatemixed</wsa:Address></wsa:EndpointReference></fed:SecurityTokenServiceEndpoint><fed:PassiveRequestorEndpoint><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>https://adfs.contoso.com/adfs/ls/</wsa:Address></wsa:EndpointReference></fed:PassiveRequestorEndpoint></RoleDescriptor><SPSSODescriptor WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{encryption}{sp_signing}<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://adfs.contoso.com/adfs/ls/"/><NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</NameIDFormat><AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://adfs.contoso.com/adfs/ls/" index="0" isDefault="true"/></SPSSODescriptor><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{encryption}{signing}<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://adfs.contoso.com/adfs/ls/"/><NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</NameIDFormat><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://adfs.contoso.com/adfs/ls/"/><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://adfs.contoso.com/adfs/ls/"/></IDPSSODescriptor><ContactPerson contactType="support"/></EntityDescriptor>"##,
            sig = sig.base64_der(),
            sp_signing = adfs_key("signing", enc),
        );
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(doc.into_bytes());
        bytes
    }

    fn sha1s(m: &Metadata) -> Vec<&str> {
        m.signing.iter().map(|c| c.sha1.as_str()).collect()
    }

    #[test]
    fn shibboleth_metadata_default_namespace_and_no_use_attribute() {
        let signing = cert("idp.example.org", 2027);
        let aa = cert("aa.example.org", 2030);
        let doc = shibboleth(&signing, &aa, "2026-03-01T12:00:00.123Z");
        let m = parse(doc.as_bytes()).unwrap();
        assert_eq!(
            m.entity_id.as_deref(),
            Some("https://idp.example.org/idp/shibboleth")
        );
        assert_eq!(m.valid_until, Some(datetime!(2026-03-01 12:00:00.123 UTC)));
        assert_eq!(sha1s(&m), [signing.sha1_hex.as_str()]);
        let info = m.signing[0].cert.as_ref().unwrap();
        assert_eq!(info.not_after, signing.not_after);
        assert_eq!(m.signing[0].error, None);
    }

    #[test]
    fn okta_metadata_with_md_prefix_and_duplicates() {
        let a = cert("okta-a", 2028);
        let b = cert("okta-b", 2029);
        let m = parse(okta(&[&a, &b, &a]).as_bytes()).unwrap();
        assert_eq!(
            m.entity_id.as_deref(),
            Some("http://www.okta.com/exk1a2b3c4d5E6f7g8h9")
        );
        assert_eq!(m.valid_until, None);
        assert_eq!(sha1s(&m), [a.sha1_hex.as_str(), b.sha1_hex.as_str()]);
    }

    #[test]
    fn adfs_federation_metadata_reads_the_sts_and_idp_roles_only() {
        let primary = cert("ADFS Signing - adfs.contoso.com", 2026);
        let secondary = cert("ADFS Signing - adfs.contoso.com (next)", 2027);
        let enc = cert("ADFS Encryption - adfs.contoso.com", 2031);
        let sig = cert("metadata signer", 2032);
        let m = parse(&adfs(&primary, &secondary, &enc, &sig)).unwrap();
        assert_eq!(
            m.entity_id.as_deref(),
            Some("http://adfs.contoso.com/adfs/services/trust")
        );
        assert_eq!(
            sha1s(&m),
            [primary.sha1_hex.as_str(), secondary.sha1_hex.as_str()]
        );
        assert!(m.signing.iter().all(|c| c.error.is_none()));
    }

    #[test]
    fn adfs_sts_role_alone_counts_as_an_idp_and_prefixes_are_resolved() {
        let c = cert("sts", 2027);
        let doc = format!(
            r#"<saml2md:EntityDescriptor xmlns:saml2md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns:wsfed="http://docs.oasis-open.org/wsfed/federation/200706" entityID="urn:sts"><saml2md:RoleDescriptor i:type="wsfed:SecurityTokenServiceType" protocolSupportEnumeration="x"><saml2md:KeyDescriptor use="signing"><sig:KeyInfo xmlns:sig="http://www.w3.org/2000/09/xmldsig#"><sig:X509Data><sig:X509Certificate>{}</sig:X509Certificate></sig:X509Data></sig:KeyInfo></saml2md:KeyDescriptor></saml2md:RoleDescriptor></saml2md:EntityDescriptor>"#,
            c.base64_der()
        );
        let m = parse(doc.as_bytes()).unwrap();
        assert_eq!(sha1s(&m), [c.sha1_hex.as_str()]);

        // The same local names in a foreign namespace do not count.
        let wrong_ns = doc.replace(
            "http://docs.oasis-open.org/wsfed/federation/200706",
            "urn:other",
        );
        assert_eq!(parse(wrong_ns.as_bytes()), Err(Error::NoIdpRole));
        let no_md = doc.replace("urn:oasis:names:tc:SAML:2.0:metadata", "urn:other");
        assert_eq!(parse(no_md.as_bytes()), Err(Error::NoEntityDescriptor));
    }

    #[test]
    fn aggregate_takes_idp_entities_and_the_earliest_valid_until() {
        let idp = cert("idp", 2027);
        let sp = cert("sp", 2027);
        let doc = format!(
            r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Name="urn:federation" validUntil="2026-01-10T00:00:00Z">
  <md:EntitiesDescriptor validUntil="2026-02-01T00:00:00">
    <md:EntityDescriptor entityID="https://sp.example.org/sp" validUntil="2025-01-01T00:00:00Z">
      <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
        <md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
      </md:SPSSODescriptor>
    </md:EntityDescriptor>
    <md:EntityDescriptor entityID="https://idp.example.org/idp" validUntil="2026-01-20T00:00:00+01:00">
      <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
        <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
      </md:IDPSSODescriptor>
    </md:EntityDescriptor>
  </md:EntitiesDescriptor>
</md:EntitiesDescriptor>"#,
            sp.base64_der(),
            idp.base64_der()
        );
        let m = parse(doc.as_bytes()).unwrap();
        assert_eq!(m.entity_id.as_deref(), Some("https://idp.example.org/idp"));
        // The SP's own (earlier) validUntil does not count; the outer aggregate's does.
        assert_eq!(m.valid_until, Some(datetime!(2026-01-10 00:00 UTC)));
        assert_eq!(sha1s(&m), [idp.sha1_hex.as_str()]);
    }

    #[test]
    fn an_aggregate_of_several_idps_reads_the_first_one_only() {
        let (first, second) = (cert("first", 2027), cert("second", 2028));
        let entity = |id: &str, c: &GeneratedCert| {
            format!(
                r#"<md:EntityDescriptor entityID="{id}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor><X509Certificate xmlns="">{}</X509Certificate></md:KeyDescriptor></md:IDPSSODescriptor></md:EntityDescriptor>"#,
                c.base64_der()
            )
        };
        let doc = format!(
            r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">{}{}</md:EntitiesDescriptor>"#,
            entity("urn:first", &first),
            // The second IdP's (invalid) validUntil is not even read.
            entity("urn:second", &second).replace(
                r#"entityID="urn:second""#,
                r#"entityID="urn:second" validUntil="garbage""#
            )
        );
        let m = parse(doc.as_bytes()).unwrap();
        assert_eq!(m.entity_id.as_deref(), Some("urn:first"));
        assert_eq!(m.idp_entities, 2);
        // An X509Certificate in no namespace (a KeyInfo without its prefix) still counts.
        assert_eq!(sha1s(&m), [first.sha1_hex.as_str()]);
        // One in a foreign namespace does not.
        let foreign = doc.replace(r#"xmlns="""#, r#"xmlns="urn:other""#);
        assert_eq!(parse(foreign.as_bytes()).unwrap().signing, []);
    }

    #[test]
    fn valid_until_forms() {
        let c = cert("v", 2027);
        for (value, expected) in [
            ("2026-03-01T12:00:00Z", datetime!(2026-03-01 12:00 UTC)),
            ("2026-03-01T12:00:00", datetime!(2026-03-01 12:00 UTC)),
            (
                "2026-03-01T12:00:00.5",
                datetime!(2026-03-01 12:00:00.5 UTC),
            ),
            (
                " 2026-03-01T14:00:00+02:00 ",
                datetime!(2026-03-01 12:00 UTC),
            ),
        ] {
            let m = parse(shibboleth(&c, &c, value).as_bytes()).unwrap();
            assert_eq!(m.valid_until, Some(expected), "{value}");
        }
        for bad in ["tomorrow", "", "2026-13-01T00:00:00Z", "2026-03-01"] {
            let e = parse(shibboleth(&c, &c, bad).as_bytes()).unwrap_err();
            assert!(matches!(e, Error::BadValidUntil { .. }), "{bad}: {e:?}");
            assert!(e.to_string().contains("validUntil"), "{e}");
        }
    }

    #[test]
    fn a_bad_certificate_value_does_not_hide_the_others() {
        let good = cert("good", 2028);
        let doc = okta(&[&good]).replace(
            "<md:KeyDescriptor use=\"signing\">",
            "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data><ds:X509Certificate>!!not base64!!</ds:X509Certificate><ds:X509Certificate>aGVsbG8=</ds:X509Certificate><ds:X509Certificate/></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:KeyDescriptor use=\"signing\">",
        );
        let m = parse(doc.as_bytes()).unwrap();
        assert_eq!(m.signing.len(), 4, "{:?}", m.signing);
        assert_eq!(m.signing[0].sha1, "");
        assert!(m.signing[0].error.as_deref().unwrap().contains("base64"));
        // Base64 but not a certificate: hashed, with an error.
        assert_eq!(m.signing[1].sha1.len(), 40);
        assert!(m.signing[1].cert.is_none() && m.signing[1].error.is_some());
        assert!(m.signing[2].error.is_some());
        assert_eq!(m.signing[3].sha1, good.sha1_hex);
        assert!(m.signing[3].cert.is_some());
    }

    #[test]
    fn a_truncated_certificate_is_published_but_never_usable() {
        use crate::remote::{DocumentKind, Published};
        use base64::Engine as _;
        let good = cert("good", 2028);
        let truncated = &good.der[..good.der.len() - 6];
        let b64 = base64::engine::general_purpose::STANDARD.encode(truncated);
        let doc = okta(&[&good]).replace(&good.base64_der(), &b64);
        let m = parse(doc.as_bytes()).unwrap();
        assert_eq!(m.signing.len(), 1);
        assert!(m.signing[0].cert.is_none());
        let error = m.signing[0].error.clone().unwrap();
        assert!(error.contains("truncated"), "{error}");
        let mut published = Published {
            valid_until: None,
            certs: m.signing,
        };
        for kind in [DocumentKind::SamlMetadata, DocumentKind::OidcJwks] {
            let problem = published.unusable(kind).unwrap();
            assert!(problem.contains("none of which can be parsed"), "{problem}");
            assert!(problem.contains("truncated"), "{problem}");
        }
        published.certs.push(PublishedCert::from_der(&good.der));
        assert_eq!(published.unusable(DocumentKind::SamlMetadata), None);
        published.certs.clear();
        assert_eq!(
            published.unusable(DocumentKind::AdfsMetadata).as_deref(),
            Some("publishes no signing certificate")
        );
        assert_eq!(published.unusable(DocumentKind::OidcJwks), None);
    }

    #[test]
    fn garbage_and_hostile_input_are_errors() {
        let cases: &[&[u8]] = &[
            b"",
            b"not xml at all",
            b"{\"keys\":[]}",
            b"<EntityDescriptor",
            b"\xff\xfe<\x00E\x00",
            b"<a><b></a>",
        ];
        for input in cases {
            let e = parse(input).unwrap_err();
            assert!(matches!(e, Error::NotXml(_)), "{input:?}: {e:?}");
        }
        let bomb = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">&lol2;</md:EntityDescriptor>"#;
        assert_eq!(parse(bomb), Err(Error::NotXml("DTDs are refused".into())));
        let external =
            br#"<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://example.com/x.dtd"><x/>"#;
        assert!(matches!(parse(external), Err(Error::NotXml(_))));
        assert_eq!(
            parse(b"<html><body/></html>"),
            Err(Error::NoEntityDescriptor)
        );
        let sp_only = br#"<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="sp"><SPSSODescriptor protocolSupportEnumeration="x"/></EntityDescriptor>"#;
        assert_eq!(parse(sp_only), Err(Error::NoIdpRole));
        assert!(Error::NoIdpRole.to_string().contains("IdP"));
    }

    #[test]
    fn a_comment_inside_a_certificate_value_does_not_truncate_it() {
        let c = crate::sim::certs::generate_cert(
            "split.example",
            time::macros::datetime!(2026-01-01 0:00 UTC),
            time::macros::datetime!(2027-01-01 0:00 UTC),
        );
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&c.der);
        let (head, tail) = b64.split_at(40);
        let xml = format!(
            r#"<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="urn:x"><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{head}<!-- split --><![CDATA[{tail}]]></X509Certificate></X509Data></KeyInfo></KeyDescriptor></IDPSSODescriptor></EntityDescriptor>"#
        );
        let m = parse(xml.as_bytes()).unwrap();
        assert_eq!(m.signing.len(), 1);
        assert_eq!(m.signing[0].error, None);
        assert_eq!(m.signing[0].sha1, c.sha1_hex);
    }
}
