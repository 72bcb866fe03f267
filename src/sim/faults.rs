//! Scripted faults: what can go wrong on a route (`Fault`, `FaultKind`) and the pure bookkeeping
//! that decides which fault, if any, a request gets (`FaultSet`). Producing the faulty HTTP
//! response is the server's job (`server.rs`); paging that never ends is the listing's
//! (`pagination.rs`, driven by [`PagingFault`]), and a hostile token body is written here
//! ([`token_body`]).

use std::time::Duration;

/// Route value matching every Management API route (`/api/v2/…`); `/oauth/token` is only
/// faulted by a fault naming it explicitly.
pub const ANY_API_ROUTE: &str = "*";

/// What a faulted request gets instead of (or on top of) the normal response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// This HTTP status with an Auth0-style error body (`{"statusCode","error","message"}`);
    /// a 429 also carries the rate-limit headers (remaining 0) and, when enabled, `Retry-After`.
    Status(u16),
    /// Wait this long, then answer normally.
    Latency(Duration),
    /// Never answer (until the simulator shuts down).
    Hang,
    /// `200 application/json` whose body is not valid JSON.
    MalformedJson,
    /// The normal response cut in half; `content-length` is the length actually sent.
    Truncated,
    /// `200 text/html` with an HTML error page (what a proxy or WAF in front would send).
    WrongContentType,
    /// `200 application/json` with a syntactically valid body of exactly this many bytes.
    Giant(usize),
    /// Invalidate every issued token, then answer 401 "Expired token".
    ExpireToken,
    /// Carry out the request, but answer with `options.thumbprints` replaced by a thumbprint of
    /// no real certificate (a write whose result does not match what was sent).
    WrongThumbprint,
    /// Carry out the request, then answer with this status and an error body (a write that took
    /// effect although the caller saw a failure).
    StatusAfterApply(u16),
    /// A samlp connection PATCH carrying `options.metadataUrl` does not download the metadata:
    /// the connection keeps the certificate it had (or takes the `signingCert` sent).
    KeepCertificate,
    /// A listing whose paging misbehaves (see [`PagingFault`]).
    Paging(PagingFault),
    /// `/oauth/token` issues a working token but says `"expires_in": <this JSON text>` (any
    /// text, valid JSON or not: `18446744073709551615`, `-5`, `0.25`, `"soon"`); an empty
    /// string leaves `expires_in` out.
    TokenExpiresIn(String),
}

/// How a listing's paging misbehaves (docs/simulator.md, scripted faults).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PagingFault {
    /// Checkpoint: every page has a `next`, and the one after the last page points back at the
    /// second page (A → B → A with three pages or more).
    CyclicCursor,
    /// Checkpoint: `next` is the cursor the page was requested with (the first page's points at
    /// the second page, which then names itself).
    StuckCursor,
    /// Offset: every request gets the first page, with this `total` (full pages, a total never
    /// reached).
    ClaimedTotal(u64),
    /// Every page after the first starts this many objects early, repeating the end of the
    /// previous page (what offset paging does while objects are created).
    RepeatedObjects(usize),
}

/// A token response body: `reply` (the normal one) with `expires_in` replaced by the raw JSON
/// text `expires_in` (left out when empty).
pub fn token_body(reply: &serde_json::Value, expires_in: &str) -> Vec<u8> {
    let mut rest = reply.clone();
    if let Some(map) = rest.as_object_mut() {
        map.remove("expires_in");
    }
    let mut text = rest.to_string();
    if !expires_in.is_empty() && text.ends_with('}') {
        text.pop();
        let sep = if text.ends_with('{') { "" } else { "," };
        text.push_str(&format!("{sep}\"expires_in\":{expires_in}}}"));
    }
    text.into_bytes()
}

/// What every document of a simulated upstream IdP answers with instead of itself (per
/// connection, see `SimIdp::fault`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdpFault {
    /// This HTTP status with a short HTML error page.
    Status(u16),
    /// `200` with the right content type and a cut-off document (unclosed XML, invalid JSON).
    Malformed,
    /// `200` with the valid document padded (trailing white space) to exactly this many bytes.
    Oversized(usize),
}

/// One scripted fault on a route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Route template (`"/api/v2/connections"`, `"/api/v2/clients/{id}/credentials"`,
    /// `"/oauth/token"`) or [`ANY_API_ROUTE`].
    pub route: String,
    /// What happens.
    pub kind: FaultKind,
    /// How many requests get the fault; `None` = every one from then on.
    pub times: Option<u32>,
    /// Matching requests to let through untouched before the fault starts.
    pub after: u32,
    /// Only requests with this HTTP method (`"PATCH"`); `None` = any method.
    pub method: Option<String>,
}

impl Fault {
    /// A fault on every matching request, starting with the first.
    pub fn new(route: impl Into<String>, kind: FaultKind) -> Self {
        Self {
            route: route.into(),
            kind,
            times: None,
            after: 0,
            method: None,
        }
    }

    /// Only requests with this method (e.g. `"PATCH"`) match; others on the route pass.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// Only the next `n` matching requests (after the skipped ones) get the fault.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Let the first `n` matching requests through before faulting.
    pub fn after(mut self, n: u32) -> Self {
        self.after = n;
        self
    }

    fn matches(&self, method: Option<&str>, route: &str) -> bool {
        let method_ok = match (&self.method, method) {
            (Some(want), Some(got)) => want.eq_ignore_ascii_case(got),
            (Some(_), None) => false,
            (None, _) => true,
        };
        method_ok
            && (self.route == route || (self.route == ANY_API_ROUTE && route.starts_with("/api/")))
    }
}

#[derive(Clone, Debug)]
struct Armed {
    fault: Fault,
    seen: u32,
    fired: u32,
}

/// The faults installed on a simulator, with per-fault counters.
///
/// Every fault whose route matches counts the request; the first (in insertion order) that is
/// past its `after` and not yet used up its `times` fires.
#[derive(Clone, Debug, Default)]
pub struct FaultSet {
    armed: Vec<Armed>,
}

impl FaultSet {
    /// Installs a fault after the existing ones.
    pub fn add(&mut self, fault: Fault) {
        self.armed.push(Armed {
            fault,
            seen: 0,
            fired: 0,
        });
    }

    /// Removes every fault.
    pub fn clear(&mut self) {
        self.armed.clear();
    }

    /// Counts a request on `route` (a route template) and returns the fault it gets, if any.
    /// Faults limited to a method never match here; see [`FaultSet::on_method_request`].
    pub fn on_request(&mut self, route: &str) -> Option<FaultKind> {
        self.on(None, route)
    }

    /// Like [`FaultSet::on_request`], for a request with a known HTTP method.
    pub fn on_method_request(&mut self, method: &str, route: &str) -> Option<FaultKind> {
        self.on(Some(method), route)
    }

    fn on(&mut self, method: Option<&str>, route: &str) -> Option<FaultKind> {
        let mut chosen = None;
        for armed in self
            .armed
            .iter_mut()
            .filter(|a| a.fault.matches(method, route))
        {
            armed.seen += 1;
            let started = armed.seen > armed.fault.after;
            let left = armed.fault.times.is_none_or(|t| armed.fired < t);
            if chosen.is_none() && started && left {
                armed.fired += 1;
                chosen = Some(armed.fault.kind.clone());
            }
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_and_times_select_the_requests() {
        let mut set = FaultSet::default();
        set.add(
            Fault::new("/api/v2/clients", FaultKind::Status(500))
                .after(1)
                .times(2),
        );
        let got: Vec<_> = (0..5).map(|_| set.on_request("/api/v2/clients")).collect();
        assert_eq!(
            got,
            vec![
                None,
                Some(FaultKind::Status(500)),
                Some(FaultKind::Status(500)),
                None,
                None
            ]
        );
    }

    #[test]
    fn other_routes_are_untouched_and_not_counted() {
        let mut set = FaultSet::default();
        set.add(Fault::new("/api/v2/clients", FaultKind::Hang).times(1));
        assert_eq!(set.on_request("/api/v2/connections"), None);
        assert_eq!(set.on_request("/api/v2/clients"), Some(FaultKind::Hang));
    }

    #[test]
    fn method_faults_match_only_that_method() {
        let mut set = FaultSet::default();
        set.add(Fault::new("/api/v2/connections/{id}", FaultKind::Status(500)).method("patch"));
        assert_eq!(
            set.on_method_request("GET", "/api/v2/connections/{id}"),
            None
        );
        assert_eq!(
            set.on_method_request("PATCH", "/api/v2/connections/{id}"),
            Some(FaultKind::Status(500))
        );
        assert_eq!(set.on_request("/api/v2/connections/{id}"), None);
    }

    #[test]
    fn wildcard_covers_api_routes_but_not_the_token_endpoint() {
        let mut set = FaultSet::default();
        set.add(Fault::new(ANY_API_ROUTE, FaultKind::MalformedJson));
        assert_eq!(set.on_request("/oauth/token"), None);
        assert_eq!(
            set.on_request("/api/v2/keys/signing"),
            Some(FaultKind::MalformedJson)
        );
        set.clear();
        set.add(Fault::new("/oauth/token", FaultKind::Status(503)));
        assert_eq!(set.on_request("/oauth/token"), Some(FaultKind::Status(503)));
    }

    #[test]
    fn token_bodies_carry_any_expires_in_text() {
        let reply = serde_json::json!({"access_token": "t", "expires_in": 86400});
        let body = |raw| String::from_utf8(token_body(&reply, raw)).unwrap();
        assert_eq!(
            body("18446744073709551615"),
            r#"{"access_token":"t","expires_in":18446744073709551615}"#
        );
        assert_eq!(
            body(r#""soon""#),
            r#"{"access_token":"t","expires_in":"soon"}"#
        );
        assert_eq!(body(""), r#"{"access_token":"t"}"#);
        assert_eq!(
            String::from_utf8(token_body(&serde_json::json!({}), "-5")).unwrap(),
            r#"{"expires_in":-5}"#
        );
    }

    #[test]
    fn first_eligible_fault_wins_and_every_match_counts() {
        let mut set = FaultSet::default();
        set.add(Fault::new("/api/v2/clients", FaultKind::Status(502)).times(1));
        set.add(
            Fault::new(ANY_API_ROUTE, FaultKind::Truncated)
                .after(1)
                .times(1),
        );
        assert_eq!(
            set.on_request("/api/v2/clients"),
            Some(FaultKind::Status(502))
        );
        assert_eq!(
            set.on_request("/api/v2/clients"),
            Some(FaultKind::Truncated)
        );
        assert_eq!(set.on_request("/api/v2/clients"), None);
    }
}
