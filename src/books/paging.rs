//! Paging through volume lists: the first page alone, then the rest
//! concurrently, in order, without the duplicates the API repeats.

use std::collections::HashSet;
use std::future::Future;

use futures_util::stream::{self, StreamExt};

use super::{Error, Volume, VolumesPage};

/// The API's largest page for volume lists.
pub const PAGE_SIZE: usize = 40;

/// Volumes asked for beyond what each page needs, where the page has room:
/// the API repeats a volume now and then, and a spare one is cheaper than
/// another round trip to make up for it.
pub const SPARE: usize = 5;

#[derive(Debug, Clone, Copy)]
pub struct Paging {
    /// `None` means everything there is (a whole shelf).
    pub limit: Option<usize>,
    pub offset: usize,
    /// Pages in flight at once after the first.
    pub jobs: usize,
}

/// Fetches pages with `fetch(start_index, max_results)` and hands each page's
/// new volumes to `emit`, in order. `totalItems` is only an estimate, so the
/// loop ends at the limit or at the first empty page. Returns how many
/// volumes were emitted.
pub async fn each_page<F, Fut, E>(paging: Paging, fetch: F, mut emit: E) -> anyhow::Result<usize>
where
    F: Fn(usize, usize) -> Fut,
    Fut: Future<Output = Result<VolumesPage, Error>>,
    E: FnMut(&[Volume]) -> anyhow::Result<()>,
{
    let mut seen = HashSet::new();
    let mut emitted = 0usize;
    let mut take = |page: Vec<Volume>, emitted: &mut usize| -> anyhow::Result<usize> {
        let room = paging.limit.map_or(usize::MAX, |l| l - *emitted);
        let fresh: Vec<Volume> = page
            .into_iter()
            .filter(|v| seen.insert(v.id.clone()))
            .take(room)
            .collect();
        if !fresh.is_empty() {
            emit(&fresh)?;
        }
        *emitted += fresh.len();
        Ok(fresh.len())
    };
    let done = |emitted: usize| paging.limit.is_some_and(|l| emitted >= l);

    if paging.limit == Some(0) {
        return Ok(0);
    }
    let first_max = paging
        .limit
        .map_or(PAGE_SIZE, |l| with_spare(l.min(PAGE_SIZE), 1));
    let first = fetch(paging.offset, first_max).await?;
    if first.items.is_empty() {
        return Ok(0);
    }
    let ended = is_last(&first, paging.offset);
    // Only a hint for planning (a shelf's count is exact, a search's is an
    // estimate): a full page past it still leads to the next one.
    let mut total_hint = first.total_items;
    take(first.items, &mut emitted)?;
    if ended {
        return Ok(emitted);
    }

    let jobs = paging.jobs.max(1);
    let mut next_start = paging.offset.saturating_add(first_max);
    // Later rounds only make up for repeats; they ask for whole pages, since
    // a request costs the same quota whatever its size.
    let mut exact = true;
    while !done(emitted) {
        // Plan the pages that cover what is still wanted (for a whole shelf,
        // one page per job), then fetch them together.
        let mut plan = Vec::new();
        let mut want = paging.limit.map_or(PAGE_SIZE * jobs, |l| l - emitted);
        if let Some(total) = total_hint.take().and_then(|t| usize::try_from(t).ok()) {
            want = want.min(total.saturating_sub(next_start).max(1));
        }
        // As many pages as the exact count needs (never more), with spares
        // where the last one has room.
        if exact {
            want = with_spare(want, want.div_ceil(PAGE_SIZE));
        }
        while want > 0 {
            let max = if exact { want.min(PAGE_SIZE) } else { PAGE_SIZE };
            plan.push((next_start, max));
            next_start = next_start.saturating_add(max);
            want = want.saturating_sub(max);
        }
        exact = false;
        let mut pages = stream::iter(plan.clone())
            .map(|(start, max)| fetch(start, max))
            .buffered(jobs);
        let mut added = 0;
        let mut ended = false;
        let mut starts = plan.iter();
        while let Some(page) = pages.next().await {
            let page = page?;
            let (start, _) = starts.next().copied().unwrap_or_default();
            if page.items.is_empty() {
                ended = true;
                break;
            }
            ended = is_last(&page, start);
            added += take(page.items, &mut emitted)?;
            if done(emitted) || ended {
                break;
            }
        }
        // An empty page ends the list; so does a round of nothing but repeats.
        if ended || added == 0 {
            break;
        }
    }
    Ok(emitted)
}

/// `want` volumes over `pages` pages, plus a few spares per page as long as
/// they fit in those pages.
fn with_spare(want: usize, pages: usize) -> usize {
    want.saturating_add(SPARE.saturating_mul(pages))
        .min(PAGE_SIZE.saturating_mul(pages))
        .max(want)
}

/// A page shorter than a whole page is the last one when `totalItems` agrees
/// that nothing follows. Alone, neither is trusted: the API returns short
/// pages in the middle of a list, and `totalItems` is only an estimate.
/// Together they spare the request for an empty page at the end of a list.
fn is_last(page: &VolumesPage, start: usize) -> bool {
    page.items.len() < PAGE_SIZE
        && page
            .total_items
            .is_some_and(|t| start.saturating_add(page.items.len()) as u64 >= t)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn vols(ids: impl IntoIterator<Item = usize>, total: Option<u64>) -> VolumesPage {
        VolumesPage {
            total_items: total,
            items: ids
                .into_iter()
                .map(|i| Volume::from_value(serde_json::json!({ "id": format!("v{i}") })).unwrap())
                .collect(),
        }
    }

    async fn run(paging: Paging, total: usize, repeat: Option<usize>) -> (Vec<String>, Vec<(usize, usize)>) {
        let calls = Mutex::new(Vec::new());
        let mut out = Vec::new();
        each_page(
            paging,
            |start, max| {
                calls.lock().unwrap().push((start, max));
                let mut page: Vec<usize> = (start..(start + max).min(total)).collect();
                if let (Some(r), false) = (repeat, page.is_empty()) {
                    page[0] = r; // the API repeats a volume seen earlier
                }
                async move { Ok(vols(page, None)) }
            },
            |page| {
                out.extend(page.iter().map(|v| v.id.clone()));
                Ok(())
            },
        )
        .await
        .unwrap();
        let mut calls = calls.into_inner().unwrap();
        calls.sort();
        (out, calls)
    }

    #[tokio::test]
    async fn pages_up_to_the_limit() {
        let (out, calls) = run(
            Paging {
                limit: Some(137),
                offset: 0,
                jobs: 4,
            },
            1000,
            None,
        )
        .await;
        assert_eq!(out.len(), 137);
        assert_eq!(out[0], "v0");
        assert_eq!(out[136], "v136");
        assert_eq!(calls, vec![(0, 40), (40, 40), (80, 40), (120, 32)]);
    }

    #[tokio::test]
    async fn stops_at_the_first_empty_page() {
        let (out, calls) = run(
            Paging {
                limit: Some(500),
                offset: 0,
                jobs: 2,
            },
            90,
            None,
        )
        .await;
        assert_eq!(out.len(), 90);
        assert!(calls.len() <= 5, "{calls:?}");
        let (out, _) = run(
            Paging {
                limit: None,
                offset: 0,
                jobs: 3,
            },
            250,
            None,
        )
        .await;
        assert_eq!(out.len(), 250);
    }

    #[tokio::test]
    async fn drops_repeats_and_fills_up() {
        let (out, _) = run(
            Paging {
                limit: Some(100),
                offset: 0,
                jobs: 4,
            },
            1000,
            Some(0),
        )
        .await;
        let unique: HashSet<_> = out.iter().collect();
        assert_eq!(unique.len(), out.len());
        assert_eq!(out.len(), 100);
    }

    /// The API lists a volume twice on the first page: the spares make up
    /// for it, with no second request.
    #[tokio::test]
    async fn a_repeat_costs_no_extra_request() {
        let calls = Mutex::new(Vec::new());
        let mut out = Vec::new();
        let paging = Paging {
            limit: Some(10),
            offset: 0,
            jobs: 4,
        };
        each_page(
            paging,
            |start, max| {
                calls.lock().unwrap().push((start, max));
                let ids = (start..start + max).map(|i| if i == 3 { 2 } else { i });
                async move { Ok(vols(ids, Some(1000))) }
            },
            |page| {
                out.extend(page.iter().map(|v| v.id.clone()));
                Ok(())
            },
        )
        .await
        .unwrap();
        assert_eq!(calls.into_inner().unwrap(), vec![(0, 10 + SPARE)]);
        let want: Vec<String> = [0, 1, 2, 4, 5, 6, 7, 8, 9, 10]
            .iter()
            .map(|i| format!("v{i}"))
            .collect();
        assert_eq!(out, want);
    }

    /// Spares never add a page: without repeats, every limit takes as many
    /// requests as whole pages of 40 need.
    #[tokio::test]
    async fn spares_never_add_a_request() {
        for limit in 1..=200 {
            let paging = Paging {
                limit: Some(limit),
                offset: 0,
                jobs: 4,
            };
            let (out, calls) = run(paging, 1000, None).await;
            assert_eq!(out.len(), limit);
            assert_eq!(calls.len(), limit.div_ceil(PAGE_SIZE), "limit {limit}: {calls:?}");
            assert!(calls.iter().all(|&(_, max)| max <= PAGE_SIZE));
        }
    }

    #[tokio::test]
    async fn a_short_page_ends_the_list_only_when_total_items_agrees() {
        let calls = Mutex::new(0);
        let fetch = |total: u64| {
            let calls = &calls;
            move |start: usize, _max: usize| {
                *calls.lock().unwrap() += 1;
                let ids = if start == 0 { 0..3 } else { 0..0 };
                async move { Ok(vols(ids, Some(total))) }
            }
        };
        let paging = Paging {
            limit: Some(10),
            offset: 0,
            jobs: 4,
        };
        let n = each_page(paging, fetch(3), |_| Ok(())).await.unwrap();
        assert_eq!((n, *calls.lock().unwrap()), (3, 1));
        *calls.lock().unwrap() = 0;
        let n = each_page(paging, fetch(500), |_| Ok(())).await.unwrap();
        assert_eq!((n, *calls.lock().unwrap()), (3, 2));
    }

    #[tokio::test]
    async fn offset_and_small_limits() {
        let (out, calls) = run(
            Paging {
                limit: Some(5),
                offset: 10,
                jobs: 4,
            },
            1000,
            None,
        )
        .await;
        assert_eq!(out, vec!["v10", "v11", "v12", "v13", "v14"]);
        assert_eq!(calls, vec![(10, 10)]);
    }
}
