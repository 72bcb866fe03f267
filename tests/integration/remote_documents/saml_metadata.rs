//! SAML / ADFS metadata against generated documents: valid metadata built from random shapes
//! (namespace prefixes or default namespaces, 0..4 `KeyDescriptor`s with `use` signing /
//! encryption / absent, certificates from a small pool, `validUntil` forms, an
//! `EntitiesDescriptor` wrapper, a `ds:Signature`, roles that must be ignored) parses to exactly
//! the signing certificates and `validUntil` put in; the same documents truncated, with a byte
//! flipped, a DTD inserted, a huge attribute or deep nesting give `Ok` or `Err` and never panic
//! or hang; a DTD is always refused, and external entities are never fetched.

use super::*;
use certwatch::remote::saml;
use time::{OffsetDateTime, UtcOffset};

const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const FED_NS: &str = "http://docs.oasis-open.org/wsfed/federation/200706";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// What must hold of any successful SAML parse: signing certificates deduplicated by SHA-1, and
/// each either decoded (matching SHA-1, no error) or carrying an error.
fn assert_saml_coherent(m: &saml::Metadata) {
    let mut seen = std::collections::HashSet::new();
    for c in &m.signing {
        assert!(c.sha1.is_empty() || seen.insert(&c.sha1), "duplicate {c:?}");
        assert_published_coherent(c);
    }
}

/// `KeyDescriptor use=…`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum KeyUse {
    Signing,
    Encryption,
    Absent,
}

/// How a certificate's base64 is written inside `X509Certificate`.
#[derive(Debug, Clone)]
enum CertText {
    Plain,
    /// Wrapped at this width, each line indented (Shibboleth, ADFS pretty-printed).
    Wrapped(usize),
    /// Surrounded by whitespace.
    Padded(String, String),
    CData,
}

#[derive(Debug, Clone)]
struct KeySpec {
    use_: KeyUse,
    cert: usize,
    text: CertText,
}

/// How a `validUntil` is written: all are the same instant.
#[derive(Debug, Clone)]
enum DateForm {
    Z,
    /// No zone: read as UTC.
    NoZone,
    /// The same instant at another offset (minutes).
    Offset(i16),
    /// Milliseconds added, written as a fraction.
    Fraction(u16),
}

#[derive(Debug, Clone)]
struct ValidUntil {
    unix: i64,
    form: DateForm,
    padded: bool,
}

impl ValidUntil {
    fn instant(&self) -> OffsetDateTime {
        let base = OffsetDateTime::from_unix_timestamp(self.unix).unwrap();
        match self.form {
            DateForm::Fraction(ms) => base + time::Duration::milliseconds(ms.into()),
            _ => base,
        }
    }

    fn render(&self) -> String {
        let fmt =
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        let base = OffsetDateTime::from_unix_timestamp(self.unix).unwrap();
        let text = match self.form {
            DateForm::Z => format!("{}Z", base.format(fmt).unwrap()),
            DateForm::NoZone => base.format(fmt).unwrap(),
            DateForm::Offset(minutes) => {
                let off = UtcOffset::from_whole_seconds(i32::from(minutes) * 60).unwrap();
                let (h, m) = (minutes.unsigned_abs() / 60, minutes.unsigned_abs() % 60);
                let sign = if minutes < 0 { '-' } else { '+' };
                let local = base.to_offset(off).format(fmt).unwrap();
                format!("{local}{sign}{h:02}:{m:02}")
            }
            DateForm::Fraction(ms) => format!("{}.{ms:03}Z", base.format(fmt).unwrap()),
        };
        if self.padded {
            format!(" {text} ")
        } else {
            text
        }
    }
}

/// The role that carries the IdP's keys.
#[derive(Debug, Clone)]
enum Role {
    Idp,
    /// ADFS: `RoleDescriptor xsi:type="fed:SecurityTokenServiceType"`, with these prefixes for
    /// the XSI and federation namespaces (`None`: the federation namespace is the default one).
    AdfsSts {
        xsi: String,
        fed: Option<String>,
    },
}

/// A valid metadata document, and what parsing it must give.
#[derive(Debug, Clone)]
struct MetadataDoc {
    /// Prefix of the metadata namespace; `None`: the default namespace.
    md: Option<String>,
    /// Prefix of the signature namespace; `None`: declared as default on each `KeyInfo`.
    ds: Option<String>,
    entity_id: String,
    role: Role,
    keys: Vec<KeySpec>,
    valid_until: Option<ValidUntil>,
    /// An enclosing `EntitiesDescriptor`, with its own optional `validUntil`.
    wrapper: Option<Option<ValidUntil>>,
    /// A `ds:Signature` block (its certificate must be ignored).
    signature: Option<usize>,
    /// Roles and entities whose keys must be ignored (SP, attribute authority, ADFS application
    /// service), with this certificate.
    distractors: Option<usize>,
    prolog: bool,
}

fn q(prefix: &Option<String>, local: &str) -> String {
    match prefix {
        Some(p) => format!("{p}:{local}"),
        None => local.to_string(),
    }
}

fn xmlns(prefix: &Option<String>, uri: &str) -> String {
    match prefix {
        Some(p) => format!(r#" xmlns:{p}="{uri}""#),
        None => format!(r#" xmlns="{uri}""#),
    }
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
        .replace('>', "&gt;")
}

impl MetadataDoc {
    fn md(&self, local: &str) -> String {
        q(&self.md, local)
    }

    /// Declares the signature namespace as the default one on an element, when it has no prefix
    /// (a prefix is declared on the root).
    fn ds_decl(&self) -> String {
        match self.ds {
            Some(_) => String::new(),
            None => xmlns(&None, DS_NS),
        }
    }

    /// `ds:KeyInfo` with one certificate.
    fn key_info(&self, cert: usize, text: &CertText) -> String {
        let b64 = pool()[cert].base64_der();
        let value = match text {
            CertText::Plain => b64,
            CertText::Wrapped(w) => b64
                .as_bytes()
                .chunks(*w)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join("\n            "),
            CertText::Padded(a, b) => format!("{a}{b64}{b}"),
            CertText::CData => format!("<![CDATA[{b64}]]>"),
        };
        let ds = |local: &str| q(&self.ds, local);
        let decl = self.ds_decl();
        format!(
            "<{ki}{decl}><{kn}>k</{kn}><{xd}><{xc}>{value}</{xc}></{xd}></{ki}>",
            ki = ds("KeyInfo"),
            kn = ds("KeyName"),
            xd = ds("X509Data"),
            xc = ds("X509Certificate"),
        )
    }

    fn key_descriptor(&self, key: &KeySpec) -> String {
        let use_ = match key.use_ {
            KeyUse::Signing => r#" use="signing""#,
            KeyUse::Encryption => r#" use="encryption""#,
            KeyUse::Absent => "",
        };
        format!(
            "<{kd}{use_}>{}</{kd}>\n",
            self.key_info(key.cert, &key.text),
            kd = self.md("KeyDescriptor")
        )
    }

    fn signature(&self, cert: usize) -> String {
        let ds = |local: &str| q(&self.ds, local);
        let decl = self.ds_decl();
        format!(
            r##"<{sig}{decl}><{si}><{cm} Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><{r} URI="#_e"><{dv}>q2Y0bq8m3k5mWq0oQ1w0c2s=</{dv}></{r}></{si}><{sv}>aGVsbG8=</{sv}>{ki}</{sig}>"##,
            sig = ds("Signature"),
            si = ds("SignedInfo"),
            cm = ds("CanonicalizationMethod"),
            r = ds("Reference"),
            dv = ds("DigestValue"),
            sv = ds("SignatureValue"),
            ki = self.key_info(cert, &CertText::Plain),
        )
    }

    /// Roles whose keys (signing ones included) must not count.
    fn distractor_roles(&self, cert: usize) -> String {
        let signing = KeySpec {
            use_: KeyUse::Signing,
            cert,
            text: CertText::Plain,
        };
        let kd = self.key_descriptor(&signing);
        let mut out = format!(
            r#"<{sp} protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{kd}</{sp}><{aa} protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{kd}</{aa}>"#,
            sp = self.md("SPSSODescriptor"),
            aa = self.md("AttributeAuthorityDescriptor"),
        );
        if let Role::AdfsSts { xsi, .. } = &self.role {
            out += &format!(
                r#"<{rd} xmlns:{xsi}="{XSI_NS}" xmlns:fedx="{FED_NS}" {xsi}:type="fedx:ApplicationServiceType">{kd}</{rd}>"#,
                rd = self.md("RoleDescriptor"),
            );
        }
        out
    }

    fn idp_role(&self) -> String {
        let keys: String = self.keys.iter().map(|k| self.key_descriptor(k)).collect();
        match &self.role {
            Role::Idp => format!(
                r#"<{idp} protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><{ext}><x:Scope xmlns:x="urn:mace:shibboleth:metadata:1.0">example.org</x:Scope></{ext}>
{keys}<{sso} Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.org/sso"/></{idp}>"#,
                idp = self.md("IDPSSODescriptor"),
                ext = self.md("Extensions"),
                sso = self.md("SingleSignOnService"),
            ),
            Role::AdfsSts { xsi, fed } => format!(
                r#"<{rd} xmlns:{xsi}="{XSI_NS}"{fed_decl} {xsi}:type="{sts}" protocolSupportEnumeration="{FED_NS}">{keys}<{tto}><{tt} Uri="urn:oasis:names:tc:SAML:2.0:assertion"/></{tto}></{rd}>"#,
                rd = self.md("RoleDescriptor"),
                fed_decl = xmlns(fed, FED_NS),
                sts = q(fed, "SecurityTokenServiceType"),
                tto = q(fed, "TokenTypesOffered"),
                tt = q(fed, "TokenType"),
            ),
        }
    }

    fn render(&self) -> String {
        let mut root_decls = xmlns(&self.md, MD_NS);
        if self.ds.is_some() {
            root_decls += &xmlns(&self.ds, DS_NS);
        }
        let valid = |v: &Option<ValidUntil>| match v {
            Some(v) => format!(r#" validUntil="{}""#, v.render()),
            None => String::new(),
        };
        let signature = self
            .signature
            .map(|c| self.signature(c))
            .unwrap_or_default();
        let distractors = self
            .distractors
            .map(|c| self.distractor_roles(c))
            .unwrap_or_default();
        let ed = self.md("EntityDescriptor");
        let body = format!("{distractors}{}\n", self.idp_role());
        let entity_id = escape_attr(&self.entity_id);
        let doc = match &self.wrapper {
            None => format!(
                r#"<{ed}{root_decls} ID="_e" entityID="{entity_id}"{}>{signature}{body}</{ed}>"#,
                valid(&self.valid_until),
            ),
            Some(outer) => {
                // An SP entity first: its keys and its (earlier) validUntil must not count.
                let sp = self.distractors.map_or(String::new(), |c| {
                    format!(
                        r#"<{ed} entityID="https://sp.example.org" validUntil="2001-01-01T00:00:00Z">{}</{ed}>"#,
                        self.distractor_roles(c)
                    )
                });
                format!(
                    r#"<{eds}{root_decls} Name="urn:federation"{}>{signature}{sp}
<{ed} entityID="{entity_id}"{}>{body}</{ed}></{eds}>"#,
                    valid(outer),
                    valid(&self.valid_until),
                    eds = self.md("EntitiesDescriptor"),
                )
            }
        };
        if self.prolog {
            format!("\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- metadata -->\n{doc}")
        } else {
            doc
        }
    }

    /// The signing certificates the parse must return: signing or no `use`, first occurrence.
    fn expected_signing(&self) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        for k in &self.keys {
            if k.use_ != KeyUse::Encryption
                && !out
                    .iter()
                    .any(|&c| pool()[c].sha1_hex == pool()[k.cert].sha1_hex)
            {
                out.push(k.cert);
            }
        }
        out
    }

    fn expected_valid_until(&self) -> Option<OffsetDateTime> {
        let outer = self.wrapper.clone().flatten();
        [&self.valid_until, &outer]
            .into_iter()
            .flatten()
            .map(ValidUntil::instant)
            .min()
    }

    /// Checks a parse of the intact document.
    fn assert_parsed(&self, m: &saml::Metadata) -> Result<(), TestCaseError> {
        prop_assert_eq!(m.entity_id.as_deref(), Some(self.entity_id.as_str()));
        prop_assert_eq!(m.valid_until, self.expected_valid_until());
        let want = self.expected_signing();
        let got: Vec<&str> = m.signing.iter().map(|c| c.sha1.as_str()).collect();
        let want_sha1: Vec<&str> = want.iter().map(|&c| pool()[c].sha1_hex.as_str()).collect();
        prop_assert_eq!(got, want_sha1);
        for (c, &i) in m.signing.iter().zip(&want) {
            prop_assert_eq!(&c.error, &None);
            prop_assert_eq!(
                c.cert.as_ref().map(|i| i.not_after),
                Some(pool()[i].not_after)
            );
        }
        Ok(())
    }
}

fn prefix(first: &'static str, fixed: &'static [&'static str]) -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(fixed).prop_map(str::to_string);
    // Distinct first letters per namespace, so two prefixes never shadow each other.
    prop_oneof![
        fixed,
        proptest::string::string_regex(&format!("{first}[a-z0-9_.-]{{1,6}}")).unwrap()
    ]
}

fn valid_until() -> impl Strategy<Value = ValidUntil> {
    let form = prop_oneof![
        Just(DateForm::Z),
        Just(DateForm::NoZone),
        (-14 * 60..=14 * 60i16).prop_map(DateForm::Offset),
        (0..1000u16).prop_map(DateForm::Fraction),
    ];
    // 2000-01-01 .. 2100-01-01.
    (946_684_800..4_102_444_800i64, form, any::<bool>())
        .prop_map(|(unix, form, padded)| ValidUntil { unix, form, padded })
}

fn key_spec() -> impl Strategy<Value = KeySpec> {
    let use_ = prop_oneof![
        Just(KeyUse::Signing),
        Just(KeyUse::Encryption),
        Just(KeyUse::Absent)
    ];
    let text = prop_oneof![
        Just(CertText::Plain),
        (1usize..100).prop_map(CertText::Wrapped),
        ("[ \t\r\n]{0,6}", "[ \t\r\n]{0,6}").prop_map(|(a, b)| CertText::Padded(a, b)),
        Just(CertText::CData),
    ];
    (use_, pool_index(), text).prop_map(|(use_, cert, text)| KeySpec { use_, cert, text })
}

fn metadata_doc() -> impl Strategy<Value = MetadataDoc> {
    let md = prop::option::of(prefix("m", &["md", "saml2md", "saml"]));
    let ds = prop::option::of(prefix("d", &["ds", "sig", "dsig"]));
    let role = prop_oneof![
        Just(Role::Idp),
        (
            prefix("i", &["xsi", "i"]),
            prop::option::of(prefix("f", &["fed", "wsfed"]))
        )
            .prop_map(|(xsi, fed)| Role::AdfsSts { xsi, fed }),
    ];
    let entity_id = prop_oneof![
        Just("https://idp.example.org/idp/shibboleth".to_string()),
        Just("http://adfs.contoso.com/adfs/services/trust".to_string()),
        "[ -~é漢🙂]{1,40}",
    ];
    (
        (md, ds, entity_id, role),
        prop::collection::vec(key_spec(), 0..4),
        prop::option::of(valid_until()),
        prop::option::of(prop::option::of(valid_until())),
        prop::option::of(pool_index()),
        prop::option::of(pool_index()),
        any::<bool>(),
    )
        .prop_map(
            |(
                (md, ds, entity_id, mut role),
                keys,
                valid_until,
                wrapper,
                signature,
                distractors,
                prolog,
            )| {
                // The federation namespace can only be the default one on an element whose own
                // name is prefixed.
                if let Role::AdfsSts { fed, .. } = &mut role
                    && md.is_none()
                    && fed.is_none()
                {
                    *fed = Some("fed".into());
                }
                MetadataDoc {
                    md,
                    ds,
                    entity_id,
                    role,
                    keys,
                    valid_until,
                    wrapper,
                    signature,
                    distractors,
                    prolog,
                }
            },
        )
}

/// DTDs an attacker might put in a metadata document.
fn doctype() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(r#"<!DOCTYPE md [<!ENTITY e "entity">]>"#.to_string()),
        Just(r#"<!DOCTYPE md SYSTEM "http://127.0.0.1:9/evil.dtd">"#.to_string()),
        Just(r#"<!DOCTYPE md [<!ENTITY e SYSTEM "file:///etc/passwd">]>"#.to_string()),
        Just(r#"<!DOCTYPE md [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>"#.to_string()),
        Just(billion_laughs(4)),
        Just("<!DOCTYPE md>".to_string()),
    ]
}

/// `levels` of entities each referencing the previous one ten times (10^levels expansion).
fn billion_laughs(levels: usize) -> String {
    let mut dtd = String::from(r#"<!DOCTYPE md [<!ENTITY lol0 "lol">"#);
    for i in 1..=levels {
        let refs = format!("&lol{};", i - 1).repeat(10);
        dtd += &format!(r#"<!ENTITY lol{i} "{refs}">"#);
    }
    dtd + "]>"
}

#[derive(Debug, Clone)]
enum XmlMutation {
    Damage(Damage),
    /// A DTD before the root element, and an entity reference in `entityID`.
    Doctype(String),
    /// An extra 1 MiB attribute on the IdP role: still parses to the same result.
    HugeAttribute,
    /// A 100 kB `validUntil`: a date error, with the value cut in the message.
    HugeValidUntil,
    /// This many nested unknown elements inside the IdP role: same result.
    DeepNesting(usize),
    /// This many unclosed elements: an error.
    Unclosed(usize),
}

fn xml_mutation() -> impl Strategy<Value = XmlMutation> {
    prop_oneof![
        3 => damage().prop_map(XmlMutation::Damage),
        1 => doctype().prop_map(XmlMutation::Doctype),
        1 => Just(XmlMutation::HugeAttribute),
        1 => Just(XmlMutation::HugeValidUntil),
        1 => (1usize..20_000).prop_map(XmlMutation::DeepNesting),
        1 => (1usize..20_000).prop_map(XmlMutation::Unclosed),
    ]
}

/// The byte offset just inside the IdP role's start tag (after its name).
fn role_start(doc: &MetadataDoc, xml: &str) -> usize {
    let name = match doc.role {
        Role::Idp => doc.md("IDPSSODescriptor"),
        Role::AdfsSts { .. } => doc.md("RoleDescriptor"),
    };
    let tag = format!("<{name} ");
    // The last match: distractor ADFS roles come before the IdP role.
    let at = match doc.role {
        Role::Idp => xml.find(&tag),
        Role::AdfsSts { .. } => xml.rfind(&tag),
    };
    at.unwrap() + tag.len() - 1
}

/// The offset just after the IdP role's start tag.
fn role_content(doc: &MetadataDoc, xml: &str) -> usize {
    let start = role_start(doc, xml);
    start + xml[start..].find('>').unwrap() + 1
}

proptest! {
    #![proptest_config(budget())]

    #[test]
    fn saml_valid_metadata_parses_to_exactly_its_signing_certificates(doc in metadata_doc()) {
        let xml = doc.render();
        match saml::parse(xml.as_bytes()) {
            Ok(m) => doc.assert_parsed(&m)?,
            Err(e) => prop_assert!(false, "{e}\n{xml}"),
        }
    }

    #[test]
    fn saml_mutated_metadata_is_ok_or_err_and_never_panics(doc in metadata_doc(),
                                                            mutation in xml_mutation()) {
        let xml = doc.render();
        let bytes = xml.as_bytes();
        let out = match &mutation {
            XmlMutation::Damage(damage) => {
                let out = saml::parse(&damage.apply(bytes));
                if let Damage::Truncate(_) = damage {
                    prop_assert!(out.is_err(), "a truncated document parsed: {out:?}");
                }
                out
            }
            XmlMutation::Doctype(dtd) => {
                let at = xml.find(&format!("<{}", doc.md(
                    if doc.wrapper.is_some() { "EntitiesDescriptor" } else { "EntityDescriptor" },
                ))).unwrap();
                let hostile = format!("{}{dtd}\n{}", &xml[..at], &xml[at..])
                    .replacen("entityID=\"", "entityID=\"&e;", 1);
                let out = saml::parse(hostile.as_bytes());
                prop_assert!(matches!(out, Err(saml::Error::NotXml(_))), "{out:?}");
                out
            }
            XmlMutation::HugeAttribute => {
                let at = role_start(&doc, &xml);
                let huge = format!("{} junk=\"{}\"{}", &xml[..at], "A".repeat(1 << 20), &xml[at..]);
                let out = saml::parse(huge.as_bytes());
                doc.assert_parsed(out.as_ref().unwrap())?;
                out
            }
            XmlMutation::HugeValidUntil => {
                // The IdP entity comes last: garble its validUntil, or give it one.
                let huge = "9".repeat(100_000);
                let hostile = if doc.valid_until.is_some() {
                    let at = xml.rfind("validUntil=\"").unwrap() + "validUntil=\"".len();
                    format!("{}2026-{huge}{}", &xml[..at], &xml[at..])
                } else {
                    let at = xml.rfind("entityID=\"").unwrap();
                    format!("{}validUntil=\"2026-{huge}\" {}", &xml[..at], &xml[at..])
                };
                let out = saml::parse(hostile.as_bytes());
                match &out {
                    Err(saml::Error::BadValidUntil { value, .. }) => {
                        prop_assert!(value.chars().count() <= 64);
                    }
                    other => prop_assert!(false, "{other:?}"),
                }
                out
            }
            XmlMutation::DeepNesting(depth) => {
                let at = role_content(&doc, &xml);
                let nested = format!("{}{}{}{}", &xml[..at], "<x>".repeat(*depth), "</x>".repeat(*depth), &xml[at..]);
                let out = returns_within(Duration::from_secs(60), move || saml::parse(nested.as_bytes()));
                doc.assert_parsed(out.as_ref().unwrap())?;
                out
            }
            XmlMutation::Unclosed(depth) => {
                let at = role_content(&doc, &xml);
                let nested = format!("{}{}{}", &xml[..at], "<x>".repeat(*depth), &xml[at..]);
                let out = returns_within(Duration::from_secs(60), move || saml::parse(nested.as_bytes()));
                prop_assert!(matches!(out, Err(saml::Error::NotXml(_))), "{out:?}");
                out
            }
        };
        match out {
            Ok(m) => assert_saml_coherent(&m),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn saml_arbitrary_bytes_and_text_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048),
                                                 text in hostile_string()) {
        for input in [&bytes[..], text.as_bytes()] {
            match saml::parse(input) {
                Ok(m) => assert_saml_coherent(&m),
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
    }
}

/// The classic billion-laughs document (10^9 expansions if entities were expanded) and a
/// quadratic blow-up (one 100 kB entity referenced 10 000 times): refused at the DTD.
#[test]
fn saml_entity_expansion_bombs_are_refused() {
    let quadratic = format!(
        r#"<!DOCTYPE md [<!ENTITY a "{}">]><md:EntityDescriptor xmlns:md="{MD_NS}" entityID="{}"/>"#,
        "a".repeat(100_000),
        "&a;".repeat(10_000)
    );
    let laughs = format!(
        r#"<?xml version="1.0"?>{}<md:EntityDescriptor xmlns:md="{MD_NS}" entityID="&lol9;"><md:IDPSSODescriptor>&lol9;</md:IDPSSODescriptor></md:EntityDescriptor>"#,
        billion_laughs(9)
    );
    for doc in [laughs, quadratic] {
        let out = returns_within(Duration::from_secs(60), move || saml::parse(doc.as_bytes()));
        assert_eq!(out, Err(saml::Error::NotXml("DTDs are refused".into())));
    }
}

/// External entities and external DTDs are refused and never fetched or read: a listener named
/// by them sees no connection, and a local file's content never reaches the result.
#[test]
fn saml_external_entities_are_refused_and_never_fetched() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/x.dtd", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "TOP-SECRET-MARKER").unwrap();
    let file = format!("file://{}", secret.display());
    let body = format!(
        r#"<md:EntityDescriptor xmlns:md="{MD_NS}" entityID="&xxe;"><md:IDPSSODescriptor/></md:EntityDescriptor>"#
    );
    let docs = [
        format!(r#"<!DOCTYPE md [<!ENTITY xxe SYSTEM "{file}">]>{body}"#),
        format!(r#"<!DOCTYPE md [<!ENTITY xxe SYSTEM "{url}">]>{body}"#),
        format!(r#"<!DOCTYPE md SYSTEM "{url}">{body}"#),
        format!(r#"<!DOCTYPE md PUBLIC "-//X//DTD X//EN" "{url}">{body}"#),
        format!(r#"<!DOCTYPE md [<!ENTITY % p SYSTEM "{url}"> %p;]>{body}"#),
        // No DTD at all: an undeclared entity is an error too.
        body.clone(),
    ];
    for doc in docs {
        let out = returns_within(Duration::from_secs(60), move || saml::parse(doc.as_bytes()));
        match out {
            Err(saml::Error::NotXml(e)) => assert!(!e.contains("TOP-SECRET"), "{e}"),
            other => panic!("{other:?}"),
        }
    }
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the parser connected to the URL of an external entity"
    );
}
