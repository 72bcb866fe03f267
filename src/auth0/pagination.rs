//! Pure pagination math: offset (`page`/`per_page`/`include_totals`) and checkpoint (`from`/`take`),
//! and the bounds of a whole listing ([`Listing`]): a server whose paging never ends (a cursor
//! that cycles or does not move, pages that repeat, a `total` that is never reached, more items
//! than configured) stops the listing with a [`Violation`] instead of looping forever, and an
//! object listed twice is kept once and counted (docs/polling.md, bounded listings).

use std::collections::HashSet;

/// The largest page Auth0 serves.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Which page to request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRequest {
    /// Offset pagination: 0-based `page` of `per_page` items, with `include_totals=true`.
    Offset {
        /// 0-based page index.
        page: u32,
        /// Items per page (≤ 100).
        per_page: u32,
    },
    /// Checkpoint pagination: `from` the previous page's `next`, `take` items.
    Checkpoint {
        /// Opaque cursor; `None` for the first page.
        from: Option<String>,
        /// Items per page (≤ 100).
        take: u32,
    },
}

impl PageRequest {
    /// The first offset page at the maximum size.
    pub fn first_offset() -> Self {
        PageRequest::Offset {
            page: 0,
            per_page: MAX_PAGE_SIZE,
        }
    }

    /// The first checkpoint page at the maximum size.
    pub fn first_checkpoint() -> Self {
        PageRequest::Checkpoint {
            from: None,
            take: MAX_PAGE_SIZE,
        }
    }

    /// Query parameters for this page.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        match self {
            PageRequest::Offset { page, per_page } => vec![
                ("page", page.to_string()),
                ("per_page", (*per_page).min(MAX_PAGE_SIZE).to_string()),
                ("include_totals", "true".to_string()),
            ],
            PageRequest::Checkpoint { from, take } => {
                let mut q = vec![("take", (*take).min(MAX_PAGE_SIZE).to_string())];
                if let Some(from) = from {
                    q.push(("from", from.clone()));
                }
                q
            }
        }
    }
}

/// What a response said about paging.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageInfo {
    /// Items in this page (decoded or not).
    pub got: usize,
    /// `total` of an offset envelope.
    pub total: Option<u64>,
    /// `next` of a checkpoint envelope.
    pub next: Option<String>,
}

/// The page after `current`, given what the response said; `None` when this was the last.
pub fn next_page(current: &PageRequest, info: &PageInfo) -> Option<PageRequest> {
    if info.got == 0 {
        return None;
    }
    match current {
        PageRequest::Offset { page, per_page } => {
            let per_page = (*per_page).clamp(1, MAX_PAGE_SIZE);
            let seen = (u64::from(*page) + 1) * u64::from(per_page);
            let more = match info.total {
                Some(total) => seen < total,
                None => info.got >= per_page as usize,
            };
            more.then(|| PageRequest::Offset {
                page: page + 1,
                per_page,
            })
        }
        PageRequest::Checkpoint { from, take } => match &info.next {
            Some(next) if !next.is_empty() && Some(next) != from.as_ref() => {
                Some(PageRequest::Checkpoint {
                    from: Some(next.clone()),
                    take: *take,
                })
            }
            _ => None,
        },
    }
}

/// The default cap on the objects one listing may return (`max_items_per_listing`).
pub const DEFAULT_MAX_ITEMS: usize = 100_000;

/// Why a listing was stopped: its paging cannot be trusted to end (or to end complete).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// `next` named the cursor the page was requested with.
    #[error(
        "the `next` cursor of page {page} is the cursor it was requested with (paging does not advance)"
    )]
    CursorStuck {
        /// 1-based page number.
        page: u32,
    },
    /// `next` named a cursor already followed earlier in this listing.
    #[error("the `next` cursor of page {page} was already followed earlier (paging cycles)")]
    CursorCycle {
        /// 1-based page number.
        page: u32,
    },
    /// Every object of a page had been listed before.
    #[error("page {page} repeats objects already listed ({items} of {items})")]
    PageRepeated {
        /// 1-based page number.
        page: u32,
        /// Objects on the page.
        items: usize,
    },
    /// Offset paging went on past what the first page's `total` allows.
    #[error(
        "{pages} pages read and more announced, but the first page's total of {total} allows {allowed}"
    )]
    BeyondTotal {
        /// Pages read so far.
        pages: u32,
        /// The first page's `total`.
        total: u64,
        /// Pages that `total` (plus growth during the walk) allows.
        allowed: u64,
    },
    /// More objects than `max_items_per_listing`.
    #[error("more than {max} objects (max_items_per_listing); {seen} listed or announced")]
    TooMany {
        /// Objects listed so far, or the `total` the server announced.
        seen: u64,
        /// The configured cap.
        max: usize,
    },
}

/// What one page of a listing contributes, once checked by [`Listing::page`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Per item of the page (in order): `false` for an object already listed (drop it).
    pub keep: Vec<bool>,
    /// The page to request next; `None` when the listing is complete or stopped.
    pub next: Option<PageRequest>,
    /// Why the listing stops after this page although the page itself is usable (its paging
    /// cycles, does not advance, or goes past its total).
    pub stop: Option<Violation>,
}

/// The memory and bounds of one listing walk (pure): every cursor followed, every object id
/// seen, the objects received (counted against `max_items`, so a listing costs at most
/// `max_items` non-empty pages) and the first page's `total`.
#[derive(Debug, Clone)]
pub struct Listing {
    max_items: usize,
    cursors: HashSet<String>,
    ids: HashSet<Box<str>>,
    items: u64,
    pages: u32,
    first_total: Option<u64>,
    duplicates: u64,
    first_duplicate: Option<String>,
}

impl Listing {
    /// A listing that may return at most `max_items` objects (at least one page's worth).
    pub fn new(max_items: usize) -> Self {
        Self {
            max_items: max_items.max(1),
            cursors: HashSet::new(),
            ids: HashSet::new(),
            items: 0,
            pages: 0,
            first_total: None,
            duplicates: 0,
            first_duplicate: None,
        }
    }

    /// Objects listed more than once so far (each extra copy counts once).
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// The id of the first object listed twice, if any.
    pub fn first_duplicate(&self) -> Option<&str> {
        self.first_duplicate.as_deref()
    }

    /// Pages checked so far.
    pub fn pages(&self) -> u32 {
        self.pages
    }

    /// Objects received so far (copies included).
    pub fn items(&self) -> u64 {
        self.items
    }

    /// Fold in the page answered to `req`: `info` is what it said about paging, `ids` the id of
    /// each of its items in order (`None` for an item without a usable id). Says which items
    /// are new and which page comes next, or why the listing stops after this page
    /// ([`Checked::stop`]); `Err` when the page itself is to be dropped (it repeats objects
    /// already listed, or goes over `max_items`).
    pub fn page<'i>(
        &mut self,
        req: &PageRequest,
        info: &PageInfo,
        ids: impl IntoIterator<Item = Option<&'i str>>,
    ) -> Result<Checked, Violation> {
        self.pages = self.pages.saturating_add(1);
        let page = self.pages;
        let mut keep = Vec::with_capacity(info.got);
        let (mut known, mut fresh) = (0usize, 0usize);
        for id in ids {
            let new = match id {
                Some(id) if self.ids.contains(id) => {
                    self.duplicates += 1;
                    self.first_duplicate.get_or_insert_with(|| id.to_string());
                    known += 1;
                    false
                }
                Some(id) => {
                    self.ids.insert(id.into());
                    fresh += 1;
                    true
                }
                None => {
                    fresh += 1;
                    true
                }
            };
            keep.push(new);
        }
        if known > 0 && fresh == 0 {
            return Err(Violation::PageRepeated { page, items: known });
        }
        // Every object received counts, copies too: each page costs a request either way.
        self.items = self.items.saturating_add(keep.len() as u64);
        let max = self.max_items as u64;
        if self.items > max {
            return Err(Violation::TooMany {
                seen: self.items,
                max: self.max_items,
            });
        }
        if self.pages == 1 {
            self.first_total = info.total;
            if let Some(total) = info.total.filter(|t| *t > max) {
                return Err(Violation::TooMany {
                    seen: total,
                    max: self.max_items,
                });
            }
        }
        let next = next_page(req, info);
        let stop = self.where_next(req, info, next.as_ref(), page);
        Ok(match stop {
            Some(v) => Checked {
                keep,
                next: None,
                stop: Some(v),
            },
            None => Checked {
                keep,
                next,
                stop: None,
            },
        })
    }

    /// Whether paging may go on to `next` after page number `page` (answered to `req`): `Some`
    /// names why not (the page itself is fine).
    fn where_next(
        &mut self,
        req: &PageRequest,
        info: &PageInfo,
        next: Option<&PageRequest>,
        page: u32,
    ) -> Option<Violation> {
        match (req, next) {
            // `next_page` ends a listing whose cursor does not move; that is a fault, not the end.
            (PageRequest::Checkpoint { from, .. }, None)
                if info.got > 0 && info.next.is_some() && info.next == *from =>
            {
                Some(Violation::CursorStuck { page })
            }
            (
                PageRequest::Checkpoint { from, .. },
                Some(PageRequest::Checkpoint { from: Some(to), .. }),
            ) => {
                if let Some(from) = from {
                    self.cursors.insert(from.clone());
                }
                self.cursors
                    .contains(to)
                    .then_some(Violation::CursorCycle { page })
            }
            (PageRequest::Offset { per_page, .. }, Some(_)) => {
                let total = self.first_total?;
                let allowed = allowed_pages(total, *per_page);
                (u64::from(self.pages) >= allowed).then_some(Violation::BeyondTotal {
                    pages: self.pages,
                    total,
                    allowed,
                })
            }
            _ => None,
        }
    }
}

/// Pages an offset listing announcing `total` may take: its own, plus a tenth (and one page)
/// for objects created while it is walked.
fn allowed_pages(total: u64, per_page: u32) -> u64 {
    let per_page = u64::from(per_page.clamp(1, MAX_PAGE_SIZE));
    let pages = total.div_ceil(per_page);
    pages.saturating_add(pages / 10).saturating_add(1)
}

/// The fewest requests needed to list `items` at `per_page` (the benchmark's "minimum calls").
pub fn min_requests(items: u64, per_page: u32) -> u64 {
    items.div_ceil(u64::from(per_page.max(1))).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn off(page: u32) -> PageRequest {
        PageRequest::Offset {
            page,
            per_page: 100,
        }
    }

    fn info(got: usize, total: Option<u64>, next: Option<&str>) -> PageInfo {
        PageInfo {
            got,
            total,
            next: next.map(str::to_string),
        }
    }

    #[test]
    fn offset_uses_total() {
        assert_eq!(
            next_page(&off(0), &info(100, Some(250), None)),
            Some(off(1))
        );
        assert_eq!(
            next_page(&off(1), &info(100, Some(250), None)),
            Some(off(2))
        );
        assert_eq!(next_page(&off(2), &info(50, Some(250), None)), None);
        // Exactly a multiple of the page size: no wasted empty page.
        assert_eq!(next_page(&off(1), &info(100, Some(200), None)), None);
        assert_eq!(next_page(&off(0), &info(100, Some(100), None)), None);
    }

    #[test]
    fn offset_without_total_stops_on_short_page() {
        assert_eq!(next_page(&off(0), &info(100, None, None)), Some(off(1)));
        assert_eq!(next_page(&off(1), &info(99, None, None)), None);
        assert_eq!(
            next_page(&off(3), &info(0, Some(1000), None)),
            None,
            "empty page ends"
        );
    }

    #[test]
    fn checkpoint_follows_next_until_absent() {
        let first = PageRequest::first_checkpoint();
        let second = next_page(&first, &info(100, None, Some("abc"))).unwrap();
        assert_eq!(
            second,
            PageRequest::Checkpoint {
                from: Some("abc".into()),
                take: 100
            }
        );
        assert_eq!(next_page(&second, &info(3, None, None)), None);
        assert_eq!(next_page(&second, &info(3, None, Some(""))), None);
        assert_eq!(
            next_page(&second, &info(100, None, Some("abc"))),
            None,
            "a cursor that does not move would loop forever"
        );
    }

    #[test]
    fn query_caps_page_size() {
        let q = PageRequest::Offset {
            page: 2,
            per_page: 500,
        }
        .query();
        assert!(q.contains(&("per_page", "100".to_string())));
        assert!(q.contains(&("page", "2".to_string())));
        let q = PageRequest::first_checkpoint().query();
        assert_eq!(q, vec![("take", "100".to_string())]);
    }

    #[test]
    fn minimum_requests() {
        assert_eq!(min_requests(0, 100), 1);
        assert_eq!(min_requests(100, 100), 1);
        assert_eq!(min_requests(101, 100), 2);
        assert_eq!(min_requests(10_000, 100), 100);
    }

    fn cp(from: Option<&str>) -> PageRequest {
        PageRequest::Checkpoint {
            from: from.map(str::to_string),
            take: 100,
        }
    }

    fn ids(range: std::ops::Range<u32>) -> Vec<String> {
        range.map(|i| format!("id{i}")).collect()
    }

    fn some(ids: &[String]) -> impl Iterator<Item = Option<&str>> {
        ids.iter().map(|i| Some(i.as_str()))
    }

    #[test]
    fn a_cursor_cycle_stops_before_the_repeated_page_is_asked() {
        let mut l = Listing::new(DEFAULT_MAX_ITEMS);
        let a = l.page(&cp(None), &info(100, None, Some("A")), some(&ids(0..100)));
        assert_eq!(a.unwrap().next, Some(cp(Some("A"))));
        let b = l.page(
            &cp(Some("A")),
            &info(100, None, Some("B")),
            some(&ids(100..200)),
        );
        assert_eq!(b.unwrap().next, Some(cp(Some("B"))));
        let again = l.page(
            &cp(Some("B")),
            &info(100, None, Some("A")),
            some(&ids(200..300)),
        );
        let again = again.unwrap();
        assert_eq!(again.stop, Some(Violation::CursorCycle { page: 3 }));
        assert_eq!(again.next, None);
        assert!(again.keep.iter().all(|k| *k), "its objects are new: kept");
    }

    #[test]
    fn a_cursor_that_does_not_move_is_an_error_not_the_end() {
        let mut l = Listing::new(DEFAULT_MAX_ITEMS);
        l.page(&cp(None), &info(100, None, Some("A")), some(&ids(0..100)))
            .unwrap();
        let stuck = l.page(
            &cp(Some("A")),
            &info(100, None, Some("A")),
            some(&ids(100..200)),
        );
        assert_eq!(
            stuck.unwrap().stop,
            Some(Violation::CursorStuck { page: 2 })
        );
        // The real end: no `next`, or an empty one.
        let mut l = Listing::new(DEFAULT_MAX_ITEMS);
        let last = l.page(&cp(None), &info(3, None, Some("")), some(&ids(0..3)));
        assert_eq!(last.unwrap().next, None);
    }

    #[test]
    fn a_repeated_page_stops_and_copies_are_dropped_and_counted() {
        let mut l = Listing::new(DEFAULT_MAX_ITEMS);
        l.page(&off(0), &info(100, Some(1_000), None), some(&ids(0..100)))
            .unwrap();
        // Two objects of page 0 show up again on page 1 (an object created meanwhile).
        let mixed: Vec<String> = ids(98..198);
        let checked = l
            .page(&off(1), &info(100, Some(1_000), None), some(&mixed))
            .unwrap();
        assert_eq!(checked.keep.iter().filter(|k| !**k).count(), 2);
        assert!(!checked.keep[0] && !checked.keep[1] && checked.keep[2]);
        assert_eq!(l.duplicates(), 2);
        assert_eq!(l.first_duplicate(), Some("id98"));
        // A server that ignores `page` and sends page 0 again.
        let repeated = l.page(&off(2), &info(100, Some(1_000), None), some(&ids(0..100)));
        assert_eq!(
            repeated,
            Err(Violation::PageRepeated {
                page: 3,
                items: 100
            })
        );
    }

    #[test]
    fn items_without_an_id_are_kept_and_never_a_repeat() {
        let mut l = Listing::new(DEFAULT_MAX_ITEMS);
        let none = [None, None];
        let c = l.page(&cp(None), &info(2, None, Some("A")), none).unwrap();
        assert_eq!(c.keep, vec![true, true]);
        let c = l.page(&cp(Some("A")), &info(2, None, None), none).unwrap();
        assert_eq!(c.next, None);
        assert_eq!(l.duplicates(), 0);
    }

    #[test]
    fn the_cap_bounds_every_listing() {
        // Fresh objects forever, no total: stopped at the cap.
        let mut l = Listing::new(250);
        let mut req = off(0);
        let mut pages = 0;
        let err = loop {
            let n = u32::try_from(pages).unwrap() * 100;
            match l.page(&req, &info(100, None, None), some(&ids(n..n + 100))) {
                Ok(c) => req = c.next.expect("full pages without total go on"),
                Err(e) => break e,
            }
            pages += 1;
        };
        assert_eq!(
            err,
            Violation::TooMany {
                seen: 300,
                max: 250
            }
        );
        assert_eq!(pages, 2, "the third page is the one over the cap");
        // A total above the cap fails at once.
        let mut l = Listing::new(250);
        let big = l.page(
            &off(0),
            &info(100, Some(1_000_000_000), None),
            some(&ids(0..100)),
        );
        assert_eq!(
            big,
            Err(Violation::TooMany {
                seen: 1_000_000_000,
                max: 250
            })
        );
    }

    #[test]
    fn offset_paging_past_its_total_stops() {
        // A total that grows with every page: allowed are its first value's pages plus a tenth.
        let mut l = Listing::new(DEFAULT_MAX_ITEMS);
        let mut req = off(0);
        let mut pages = 0u32;
        let err = loop {
            let total = u64::from(pages + 2) * 100;
            let n = pages * 100;
            let c = l
                .page(&req, &info(100, Some(total), None), some(&ids(n..n + 100)))
                .unwrap();
            if let Some(stop) = c.stop {
                break stop;
            }
            req = c.next.expect("total not reached yet");
            pages += 1;
        };
        assert_eq!(
            err,
            Violation::BeyondTotal {
                pages: 3,
                total: 200,
                allowed: 3
            }
        );
        assert_eq!(allowed_pages(0, 100), 1);
        assert_eq!(allowed_pages(1_000, 100), 12);
        assert!(allowed_pages(u64::MAX, 1) > u64::MAX / 2, "no overflow");
    }

    #[test]
    fn an_honest_listing_passes_untouched() {
        let mut l = Listing::new(DEFAULT_MAX_ITEMS);
        let mut req = off(0);
        let mut got = 0;
        loop {
            let n = got as u32;
            let size = (250 - got).min(100);
            let c = l
                .page(
                    &req,
                    &info(size, Some(250), None),
                    some(&ids(n..n + size as u32)),
                )
                .unwrap();
            assert!(c.keep.iter().all(|k| *k));
            got += size;
            match c.next {
                Some(next) => req = next,
                None => break,
            }
        }
        assert_eq!(
            (got, l.pages(), l.items(), l.duplicates()),
            (250, 3, 250, 0)
        );
    }
}
