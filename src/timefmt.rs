//! Instants as text, one format everywhere certwatch writes a time: RFC 3339, whole seconds,
//! UTC with `Z` (the docs/json.md format). `rfc3339` for text, `serialize` and `rfc3339_opt` for
//! serde fields. Pure; reading the clock is `crate::clock`'s business.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Format an instant as RFC 3339 (seconds precision, `Z`).
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Serde `serialize_with` for an `OffsetDateTime` field, as `rfc3339`.
pub fn serialize<S: serde::Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*t))
}

/// Serde `with` for `Option<OffsetDateTime>`: written as `rfc3339` or `null`, read from any
/// RFC 3339 string or `null`.
pub mod rfc3339_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    /// Write `Some` as `rfc3339`, `None` as `null`.
    pub fn serialize<S: Serializer>(v: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(t) => super::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    /// Read an RFC 3339 string or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| OffsetDateTime::parse(&s, &Rfc3339).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn whole_seconds_in_utc_with_z() {
        assert_eq!(
            rfc3339(datetime!(2026-11-23 10:20:30.999 +02:00)),
            "2026-11-23T08:20:30Z"
        );
    }

    #[derive(serde::Serialize)]
    struct Written {
        #[serde(serialize_with = "serialize")]
        at: OffsetDateTime,
        #[serde(with = "rfc3339_opt")]
        until: Option<OffsetDateTime>,
    }

    #[derive(serde::Deserialize)]
    struct Read {
        #[serde(default, with = "rfc3339_opt")]
        until: Option<OffsetDateTime>,
    }

    #[test]
    fn serde_fields() {
        let doc = Written {
            at: datetime!(2026-11-23 0:00 UTC),
            until: None,
        };
        let json = serde_json::to_string(&doc).unwrap();
        assert_eq!(json, r#"{"at":"2026-11-23T00:00:00Z","until":null}"#);
        let read: Read = serde_json::from_str(r#"{"until":"2027-01-01T00:00:00+01:00"}"#).unwrap();
        assert_eq!(read.until, Some(datetime!(2026-12-31 23:00 UTC)));
        let read: Read = serde_json::from_str("{}").unwrap();
        assert_eq!(read.until, None);
    }
}
