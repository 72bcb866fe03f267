//! Pure pagination math: offset (`page`/`per_page`/`include_totals`) and checkpoint (`from`/`take`).

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
}
