//! Walking one paginated listing (clients, connections, custom domains): pages are fetched one
//! after another and checked by `auth0::pagination::Listing` (no cursor followed twice, no page
//! repeated, no more than `max_items_per_listing` objects, no more pages than `total` allows),
//! copies of an object already listed are dropped, and the per-object calls a page names run
//! while later pages load. A listing that breaks a bound stops with a `decode` error naming the
//! endpoint (docs/polling.md, bounded listings).

use crate::auth0::pagination::Listing;
use crate::auth0::{self, Page, PageRequest, wire::Listed};
use futures::StreamExt as _;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use std::collections::VecDeque;

/// A listing to walk: the route template it is known by, where it starts and its bounds.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Route template (`/api/v2/connections`), named in errors and in the duplicate counter.
    pub endpoint: &'static str,
    /// The first page.
    pub first: PageRequest,
    /// `max_items_per_listing`.
    pub max_items: usize,
    /// Per-object calls running at once.
    pub concurrency: usize,
}

/// Objects a listing returned more than once (a copy is dropped, the first one kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicates {
    /// Route template of the listing.
    pub endpoint: &'static str,
    /// Extra copies dropped.
    pub count: u64,
    /// The first object id seen twice.
    pub first_id: String,
}

/// How a walk ended.
#[derive(Debug)]
pub struct Walked {
    /// `Err` when a page failed or the listing broke a bound (calls already started finished).
    pub result: Result<(), auth0::Error>,
    /// Copies dropped, when there were any.
    pub duplicates: Option<Duplicates>,
}

/// Keep the items (then the rejected ones) that `keep` marks, in order.
fn drop_copies<T>(page: &mut Page<T>, keep: &[bool]) {
    if keep.iter().all(|k| *k) {
        return;
    }
    let mut flags = keep.iter().copied();
    page.items.retain(|_| flags.next().unwrap_or(true));
    page.rejected.retain(|_| flags.next().unwrap_or(true));
}

/// Page through a listing from `plan.first`; `on_page` folds each (checked, de-duplicated) page
/// into `state` and names the per-object calls it needs, which run (up to `plan.concurrency` at
/// once) while later pages load; `on_detail` folds their results. A page that fails, or breaks
/// a bound, ends the listing (calls already started finish, queued ones are dropped).
pub async fn walk<'f, S, T, J, D>(
    state: &mut S,
    plan: Plan,
    fetch_page: impl Fn(PageRequest) -> BoxFuture<'f, Result<Page<T>, auth0::Error>>,
    on_page: impl Fn(&mut S, Page<T>) -> Vec<J>,
    fetch_detail: impl Fn(J) -> BoxFuture<'f, (J, Result<D, auth0::Error>)>,
    on_detail: impl Fn(&mut S, J, Result<D, auth0::Error>),
) -> Walked
where
    T: Listed,
{
    let mut listing = Listing::new(plan.max_items);
    let mut asked = plan.first.clone();
    let mut page = Some(fetch_page(plan.first));
    let mut queued: VecDeque<J> = VecDeque::new();
    let mut running = FuturesUnordered::new();
    let mut failed = None;
    loop {
        while running.len() < plan.concurrency.max(1) {
            let Some(job) = queued.pop_front() else { break };
            running.push(fetch_detail(job));
        }
        let listed = match (&mut page, running.is_empty()) {
            (None, true) => break,
            (Some(next), true) => Some(next.await),
            (None, false) => None,
            (Some(next), false) => tokio::select! {
                listed = next => Some(listed),
                Some((job, res)) = running.next() => {
                    on_detail(state, job, res);
                    None
                }
            },
        };
        let checked = listed.map(|res| {
            res.and_then(|mut p| {
                let ids = p
                    .items
                    .iter()
                    .map(|i| Some(i.id()))
                    .chain(p.rejected.iter().map(|r| r.known_id()));
                let stopped = |v| auth0::Error::Decode(format!("{}: {v}; stopped", plan.endpoint));
                let checked = listing.page(&asked, &p.info, ids).map_err(stopped)?;
                drop_copies(&mut p, &checked.keep);
                Ok((p, checked.next, checked.stop.map(stopped)))
            })
        });
        match checked {
            Some(Ok((p, next, stop))) => {
                queued.extend(on_page(state, p));
                page = next.map(|req| {
                    asked = req.clone();
                    fetch_page(req)
                });
                if let Some(e) = stop {
                    // The page was fine, the paging after it is not: keep it, go no further.
                    failed = Some(e);
                    queued.clear();
                }
            }
            Some(Err(e)) => {
                failed = Some(e);
                page = None;
                queued.clear();
            }
            None if page.is_none() => {
                if let Some((job, res)) = running.next().await {
                    on_detail(state, job, res);
                }
            }
            None => {}
        }
    }
    Walked {
        result: failed.map_or(Ok(()), Err),
        duplicates: listing.first_duplicate().map(|id| Duplicates {
            endpoint: plan.endpoint,
            count: listing.duplicates(),
            first_id: id.to_string(),
        }),
    }
}
