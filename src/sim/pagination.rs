//! Query strings and list pagination as the Management API does them (pure):
//! offset paging (`page`, `per_page` ≤ 100, `include_totals` envelope), checkpoint paging
//! (`from`/`take` → `{"<items>": […], "next"?}`, `take` winning over `include_totals`), and the
//! plain-array default; and paging that misbehaves on purpose ([`PagingFault`]).

use super::faults::PagingFault;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// Default page size of list endpoints (`per_page` and `take`). The OAS says connections
/// default to 100; we use 50 like the SDKs send (docs/auth0-api.md).
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// Largest accepted `per_page` / `take`.
pub const MAX_PAGE_SIZE: usize = 100;

/// A parsed query string (keys may repeat, as in `?strategy=samlp&strategy=adfs`).
#[derive(Clone, Debug, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

/// A query parameter Auth0 would reject with 400 `invalid_query_string`; the message is the
/// body's `message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError(pub String);

impl Query {
    /// Parses a raw (still percent-encoded) query string.
    pub fn parse(raw: &str) -> Self {
        Self {
            pairs: url::form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect(),
        }
    }

    /// The last value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, each also split on commas (`a,b` and `k=a&k=b` are the same).
    pub fn get_all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Whether `key` is present at all.
    pub fn has(&self, key: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == key)
    }

    /// A boolean parameter (`true`/`false`).
    pub fn bool(&self, key: &str) -> Result<Option<bool>, QueryError> {
        match self.get(key) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(type_error(key, "boolean")),
        }
    }

    /// A non-negative integer parameter.
    pub fn usize(&self, key: &str) -> Result<Option<usize>, QueryError> {
        self.get(key)
            .map(|v| v.parse().map_err(|_| type_error(key, "integer")))
            .transpose()
    }
}

fn type_error(key: &str, expected: &str) -> QueryError {
    QueryError(format!(
        "Query validation error: 'Expected type {expected} but found type string' on property {key}."
    ))
}

fn too_big(key: &str) -> QueryError {
    QueryError(format!(
        "Query validation error: 'Too big: must be at most {MAX_PAGE_SIZE}' on property {key}."
    ))
}

/// How a list request wants its page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageRequest {
    /// `page`/`per_page`; an `{"total","start","limit",…}` envelope when `include_totals`.
    Offset {
        /// 0-based page number.
        page: usize,
        /// Items per page.
        per_page: usize,
        /// Whether to wrap the page in the totals envelope.
        include_totals: bool,
    },
    /// `from`/`take`: `{"<items>": […], "next": "<cursor>"}`, `next` absent on the last page.
    Checkpoint {
        /// Index of the first item (decoded from the opaque `from` cursor).
        from: usize,
        /// Items per page.
        take: usize,
    },
}

impl PageRequest {
    /// Reads the paging parameters of a list endpoint.
    pub fn from_query(q: &Query) -> Result<Self, QueryError> {
        if q.has("take") || q.has("from") {
            let take = q.usize("take")?.unwrap_or(DEFAULT_PAGE_SIZE);
            if take > MAX_PAGE_SIZE {
                return Err(too_big("take"));
            }
            let from = match q.get("from") {
                None | Some("") => 0,
                Some(cursor) => decode_cursor(cursor)
                    .ok_or_else(|| QueryError("The from parameter is invalid.".into()))?,
            };
            return Ok(Self::Checkpoint { from, take });
        }
        let per_page = q.usize("per_page")?.unwrap_or(DEFAULT_PAGE_SIZE);
        if per_page > MAX_PAGE_SIZE {
            return Err(too_big("per_page"));
        }
        Ok(Self::Offset {
            page: q.usize("page")?.unwrap_or(0),
            per_page,
            include_totals: q.bool("include_totals")?.unwrap_or(false),
        })
    }

    /// Cuts `items` (already filtered) into the requested page, renders only that page with
    /// `render`, and wraps it the way Auth0 does, with `key` naming the array in envelopes
    /// (`"clients"`, `"connections"`); the paging misbehaves as `fault` says, if any.
    pub fn paginate<T>(
        &self,
        fault: Option<&PagingFault>,
        items: Vec<T>,
        key: &str,
        render: impl FnMut(T) -> Value,
    ) -> Value {
        let total = items.len();
        let early = match fault {
            Some(PagingFault::RepeatedObjects(n)) => *n,
            _ => 0,
        };
        match *self {
            Self::Offset {
                page,
                per_page,
                include_totals,
            } => {
                let (page, claimed) = match fault {
                    Some(PagingFault::ClaimedTotal(n)) => (0, json!(n)),
                    _ => (page, json!(total)),
                };
                let start = page.saturating_mul(per_page);
                let start = if page > 0 {
                    start.saturating_sub(early)
                } else {
                    start
                };
                let slice = window(items, start, per_page, render);
                if include_totals {
                    let mut body = serde_json::Map::new();
                    body.insert("total".into(), claimed);
                    body.insert("start".into(), json!(start));
                    body.insert("limit".into(), json!(per_page));
                    body.insert(key.to_owned(), Value::Array(slice));
                    Value::Object(body)
                } else {
                    Value::Array(slice)
                }
            }
            Self::Checkpoint { from, take } => {
                let slice = window(items, from, take, render);
                let mut body = serde_json::Map::new();
                body.insert(key.to_owned(), Value::Array(slice));
                let end = from.saturating_add(take);
                let next = match fault {
                    Some(PagingFault::CyclicCursor) if end >= total => Some(take),
                    Some(PagingFault::StuckCursor) if from > 0 => Some(from),
                    _ if end < total => Some(end.saturating_sub(early).max(from + 1)),
                    _ => None,
                };
                if let Some(next) = next {
                    body.insert("next".into(), Value::String(encode_cursor(next)));
                }
                Value::Object(body)
            }
        }
    }
}

fn window<T>(
    items: Vec<T>,
    start: usize,
    len: usize,
    render: impl FnMut(T) -> Value,
) -> Vec<Value> {
    items
        .into_iter()
        .skip(start)
        .take(len)
        .map(render)
        .collect()
}

/// An opaque `next` cursor for the item at `offset` (looks like Auth0's iron tokens).
pub fn encode_cursor(offset: usize) -> String {
    format!(
        "Fe26.2*SIM*{}",
        URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
    )
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let b64 = cursor.strip_prefix("Fe26.2*SIM*")?;
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(b64).ok()?).ok()?;
    text.strip_prefix("offset:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<Value> {
        (0..n).map(|i| json!({ "i": i })).collect()
    }

    fn req(q: &str) -> Result<PageRequest, QueryError> {
        PageRequest::from_query(&Query::parse(q))
    }

    #[test]
    fn defaults_to_first_page_of_fifty_as_plain_array() {
        let page = req("")
            .unwrap()
            .paginate(None, items(120), "clients", |v| v);
        let arr = page.as_array().unwrap();
        assert_eq!(arr.len(), 50);
        assert_eq!(arr[0]["i"], 0);
    }

    #[test]
    fn offset_envelope_reports_totals_and_window() {
        let page = req("page=2&per_page=7&include_totals=true")
            .unwrap()
            .paginate(None, items(20), "clients", |v| v);
        assert_eq!(page["total"], 20);
        assert_eq!(page["start"], 14);
        assert_eq!(page["limit"], 7);
        let got: Vec<_> = page["clients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["i"].as_u64().unwrap())
            .collect();
        assert_eq!(got, vec![14, 15, 16, 17, 18, 19]);
        let past_end = req("page=9&per_page=7&include_totals=true")
            .unwrap()
            .paginate(None, items(20), "clients", |v| v);
        assert_eq!(past_end["clients"], json!([]));
    }

    #[test]
    fn per_page_and_take_are_capped() {
        assert!(req("per_page=100").is_ok());
        let err = req("per_page=400").unwrap_err();
        assert!(err.0.contains("per_page"), "{err:?}");
        assert!(req("take=101").is_err());
        assert!(req("page=-1").is_err());
        assert!(req("include_totals=yes").is_err());
    }

    #[test]
    fn checkpoint_pages_follow_next_until_absent() {
        let all = items(5);
        let mut cursor: Option<String> = None;
        let mut seen = Vec::new();
        loop {
            let q = match &cursor {
                None => "take=2".to_owned(),
                Some(c) => format!(
                    "take=2&from={}",
                    url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
                ),
            };
            let page = req(&q)
                .unwrap()
                .paginate(None, all.clone(), "connections", |v| v);
            assert!(page.get("total").is_none());
            for item in page["connections"].as_array().unwrap() {
                seen.push(item["i"].as_u64().unwrap());
            }
            match page.get("next") {
                Some(next) => cursor = Some(next.as_str().unwrap().to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn take_wins_over_include_totals_and_exact_last_page_has_no_next() {
        let page = req("include_totals=true&per_page=50&take=100")
            .unwrap()
            .paginate(None, items(100), "connections", |v| v);
        assert_eq!(page.as_object().unwrap().len(), 1, "{page}");
        assert_eq!(page["connections"].as_array().unwrap().len(), 100);
    }

    /// The cursors (as offsets) and item numbers of the pages a client following `next` gets,
    /// at most `pages` of them.
    fn follow(fault: &PagingFault, n: usize, pages: usize) -> Vec<(Option<usize>, Vec<u64>)> {
        let mut out = Vec::new();
        let mut from = None;
        for _ in 0..pages {
            let req = PageRequest::Checkpoint {
                from: from.unwrap_or(0),
                take: 2,
            };
            let page = req.paginate(Some(fault), items(n), "connections", |v| v);
            let got = page["connections"].as_array().unwrap();
            out.push((from, got.iter().map(|v| v["i"].as_u64().unwrap()).collect()));
            match page.get("next").and_then(Value::as_str) {
                Some(next) => from = decode_cursor(next),
                None => break,
            }
        }
        out
    }

    #[test]
    fn paging_faults() {
        let cyclic = follow(&PagingFault::CyclicCursor, 5, 5);
        let cursors: Vec<_> = cyclic.iter().map(|(from, _)| *from).collect();
        assert_eq!(cursors, vec![None, Some(2), Some(4), Some(2), Some(4)]);
        let stuck = follow(&PagingFault::StuckCursor, 5, 4);
        let cursors: Vec<_> = stuck.iter().map(|(from, _)| *from).collect();
        assert_eq!(cursors, vec![None, Some(2), Some(2), Some(2)]);
        let repeated = follow(&PagingFault::RepeatedObjects(1), 5, 9);
        let seen: Vec<u64> = repeated.into_iter().flat_map(|(_, i)| i).collect();
        assert_eq!(
            seen,
            vec![0, 1, 1, 2, 2, 3, 3, 4],
            "each page repeats one, none is lost"
        );
        let claimed = |page| {
            PageRequest::Offset {
                page,
                per_page: 2,
                include_totals: true,
            }
            .paginate(
                Some(&PagingFault::ClaimedTotal(1_000)),
                items(5),
                "clients",
                |v| v,
            )
        };
        assert_eq!(claimed(0), claimed(7), "every page is the first");
        assert_eq!(claimed(3)["total"], 1_000);
        let shifted = PageRequest::Offset {
            page: 1,
            per_page: 2,
            include_totals: false,
        }
        .paginate(
            Some(&PagingFault::RepeatedObjects(1)),
            items(5),
            "clients",
            |v| v,
        );
        assert_eq!(shifted, json!([{"i": 1}, {"i": 2}]));
    }

    #[test]
    fn bad_cursor_is_rejected() {
        assert!(req("from=garbage&take=5").is_err());
    }

    #[test]
    fn repeated_and_comma_separated_values() {
        let q = Query::parse("strategy=samlp&strategy=adfs,waad&name=x%20y");
        assert_eq!(q.get_all("strategy"), vec!["samlp", "adfs", "waad"]);
        assert_eq!(q.get("name"), Some("x y"));
    }
}
