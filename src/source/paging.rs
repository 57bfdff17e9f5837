//! Paging to the end, written once for every connector: a `Listing` says
//! how one object type is asked for, page by page; its default method
//! `pull_all` does the rest (the shared client's limiter and retries, loop
//! protection, progress). Progress is a bar per object type on a terminal,
//! otherwise one log line per object type when it is done.

use super::http::Http;
use super::wire::thousands;
use anyhow::{anyhow, bail, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::io::IsTerminal;
use std::time::Instant;
use url::Url;

/// One object type of a CRM, read page by page.
pub trait Listing: Sync {
    /// A page as the vendor sends it.
    type Page: DeserializeOwned + Send;
    type Record: Send;

    /// The object type as the vendor names it ("deals", "Opportunity").
    fn object(&self) -> &str;
    fn first(&self) -> Url;
    /// The URL of the page after `page` (which came from `url`), or `None`
    /// after the last page.
    fn next(&self, page: &Self::Page, url: &Url) -> Option<Url>;
    /// The page's records, or the vendor's message when the page itself
    /// says the request failed.
    fn records(&self, page: Self::Page) -> Result<Vec<Self::Record>, String>;
    /// How many records there are in all, when the vendor says.
    fn total(&self, _page: &Self::Page) -> Option<u64> {
        None
    }

    /// Reads every page, in order, to the end; fails on the first page
    /// that fails for good.
    fn pull_all<'a>(
        &'a self,
        http: &'a Http,
        progress: &'a Progress,
    ) -> impl Future<Output = Result<Vec<Self::Record>>> + Send + 'a
    where
        Self: Sized,
    {
        async move {
            let bar = progress.tally(self.object());
            let (records, pages) = read_pages(self, http, |n, total| bar.page(n, total)).await?;
            bar.finish(records.len(), pages);
            Ok(records)
        }
    }

    /// `pull_all` without a progress line of its own, for many small
    /// listings (one per deal) counted on one `Tally`: the records and
    /// how many pages (requests) they took.
    fn pull_quiet<'a>(
        &'a self,
        http: &'a Http,
    ) -> impl Future<Output = Result<(Vec<Self::Record>, u32)>> + Send + 'a
    where
        Self: Sized,
    {
        read_pages(self, http, |_, _| {})
    }
}

/// Every page of `l`, in order; `on_page` hears the records so far.
async fn read_pages<L: Listing>(
    l: &L,
    http: &Http,
    on_page: impl Fn(usize, Option<u64>) + Send,
) -> Result<(Vec<L::Record>, u32)> {
    let object = l.object();
    let mut url = l.first();
    let mut records = Vec::new();
    let mut number = 1u32;
    loop {
        let page: L::Page = http.get_page(object, number, &url).await?;
        let total = l.total(&page);
        let next = l.next(&page, &url);
        let mut got = l.records(page).map_err(|m| {
            anyhow!(
                "{} {object}, page {number}: the API says the request failed: {m}",
                http.vendor()
            )
        })?;
        records.append(&mut got);
        on_page(records.len(), total);
        match next {
            Some(n) if n == url => bail!(
                "{} {object}, page {number}: the API sent the same page cursor again; stopping so as not to loop",
                http.vendor()
            ),
            Some(n) => {
                url = n;
                number += 1;
            }
            None => break,
        }
    }
    Ok((records, number))
}

/// Progress of one pull.
pub struct Progress {
    vendor: &'static str,
    bars: Option<MultiProgress>,
}

impl Progress {
    pub fn new(vendor: &'static str) -> Progress {
        Progress {
            vendor,
            bars: std::io::stderr().is_terminal().then(MultiProgress::new),
        }
    }

    /// The progress line of one object type.
    pub fn tally(&self, object: &str) -> Tally {
        let bar = self.bars.as_ref().map(|m| {
            let b = m.add(ProgressBar::new_spinner());
            b.set_style(
                ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.set_prefix(format!("{} {object}", self.vendor));
            b.set_message("asking…");
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            b
        });
        Tally {
            vendor: self.vendor,
            object: object.to_string(),
            started: Instant::now(),
            bar,
        }
    }
}

/// The progress of one object type: a bar on a terminal, else one log line
/// when it is done.
pub struct Tally {
    vendor: &'static str,
    object: String,
    started: Instant,
    bar: Option<ProgressBar>,
}

impl Tally {
    /// `records` read so far, of `total` when it is known.
    pub fn page(&self, records: usize, total: Option<u64>) {
        if let Some(b) = &self.bar {
            b.set_message(match total {
                Some(t) => format!("{} of {}", thousands(records as u64), thousands(t)),
                None => thousands(records as u64),
            });
        }
    }

    /// "hubspot: 48,210 deals in 97 pages, 12.4 s"
    pub fn finish(&self, records: usize, pages: u32) {
        let line = format!(
            "{}: {} {} in {} page{}, {:.1} s",
            self.vendor,
            thousands(records as u64),
            self.object,
            pages,
            if pages == 1 { "" } else { "s" },
            self.started.elapsed().as_secs_f64()
        );
        match &self.bar {
            Some(b) => {
                if let Ok(style) = ProgressStyle::with_template("{msg}") {
                    b.set_style(style);
                }
                b.finish_with_message(line)
            }
            None => tracing::info!(
                connector = self.vendor,
                object = self.object.as_str(),
                records,
                pages,
                "{line}"
            ),
        }
    }
}

/// `url` with the query parameter `key` set to `value` (replacing it).
pub fn with_param(url: &Url, key: &str, value: &str) -> Url {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != key)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut out = url.clone();
    out.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair(key, value);
    out
}

/// `base` (which may carry a path prefix, e.g. a proxy's) joined with
/// `path` and the query `params`.
pub fn endpoint(base: &str, path: &str, params: &[(&str, &str)]) -> Result<Url> {
    let text = format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    let mut url = Url::parse(&text)
        .map_err(|e| anyhow!("{text:?} is not a URL ({e}); check [source] base_url"))?;
    if !params.is_empty() {
        url.query_pairs_mut().extend_pairs(params);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_replaces_the_previous_one() {
        let u = endpoint(
            "http://x/api/",
            "/crm/v3/objects/deals",
            &[("limit", "100"), ("properties", "a,b")],
        )
        .unwrap();
        assert_eq!(
            u.as_str(),
            "http://x/api/crm/v3/objects/deals?limit=100&properties=a%2Cb"
        );
        let u2 = with_param(&with_param(&u, "after", "NTI1Cg=="), "after", "200");
        assert_eq!(u2.query(), Some("limit=100&properties=a%2Cb&after=200"));
    }
}
