//! `crawler`: eventlet's GreenPool crawler as a tatsu app. From a start URL it fetches pages concurrently (a
//! `GreenPool`, results in order with `imap`), each fetch under a `Timeout`, follows the links it has not seen on
//! the same site, and reports what it found: in the log, as a `crawler.report` app event, and as the answer to
//! `crawler.report` requests.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tatsu_plugin_api::green::{self, GreenPool, TcpStream, Timeout};
use tatsu_plugin_api::{export_app, App, AppEvent, AppRequest, BoxError, Context, Handlers};

/// Settings from `[app.crawler]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where to start (`http://host:port/path`); empty: do nothing.
    pub start_url: String,
    /// Pages fetched at once.
    pub concurrency: usize,
    /// Most pages to fetch.
    pub max_pages: usize,
    /// Each fetch is abandoned after this long.
    pub fetch_timeout_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config { start_url: String::new(), concurrency: 8, max_pages: 100, fetch_timeout_ms: 2000 }
    }
}

/// What a crawl found.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    /// Pages fetched, with the number of links each had.
    pub pages: BTreeMap<String, usize>,
    /// Pages that failed, with why.
    pub failed: BTreeMap<String, String>,
}

/// Published when a crawl finishes.
impl AppEvent for Report {
    const NAME: &'static str = "crawler.report";
}

/// The `crawler.report` request: the last finished crawl's [`Report`].
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ReportRequest {}

impl AppRequest for ReportRequest {
    const NAME: &'static str = "crawler.report";
    type Reply = Report;
}

/// The crawler.
pub struct Crawler {
    config: Config,
    report: Arc<Mutex<Option<Report>>>,
}

impl App for Crawler {
    const NAME: &'static str = "crawler";
    const DESCRIPTION: &'static str = "GreenPool web crawler";
    type Config = Config;

    fn new(_ctx: &Context, config: Config) -> Result<Self, BoxError> {
        Ok(Crawler { config, report: Arc::default() })
    }

    fn register(&self, handlers: &mut Handlers<Self>) {
        handlers.on_request(|crawler: &mut Crawler, _: &Context, _: ReportRequest| {
            crawler.report.lock().unwrap_or_else(PoisonError::into_inner).clone().ok_or("no crawl has finished yet")
        });
    }

    fn start(&mut self, ctx: &Context) -> Result<(), BoxError> {
        if self.config.start_url.is_empty() {
            return Ok(());
        }
        Url::parse(&self.config.start_url)?;
        let (config, report, ctx) = (self.config.clone(), Arc::clone(&self.report), *ctx);
        green::spawn_n(move || {
            let found = crawl(&config);
            log::info!(
                "crawled {} page(s), {} failed: {:?} failed: {:?}",
                found.pages.len(),
                found.failed.len(),
                found.pages.keys().collect::<Vec<_>>(),
                found.failed
            );
            let _ = ctx.publish(&found);
            *report.lock().unwrap_or_else(PoisonError::into_inner) = Some(found);
        });
        Ok(())
    }
}

/// Crawls level by level: each level's pages are fetched concurrently, in a pool.
fn crawl(config: &Config) -> Report {
    let pool = GreenPool::new(config.concurrency.max(1));
    let timeout = Duration::from_millis(config.fetch_timeout_ms);
    let mut report = Report::default();
    let mut seen: HashSet<String> = HashSet::from([config.start_url.clone()]);
    let mut level = vec![config.start_url.clone()];
    while !level.is_empty() {
        let bodies = pool.imap(
            move |url: String| {
                Timeout::run(timeout, || fetch(&url))
                    .map_err(|_| format!("timed out after {timeout:?}"))
                    .and_then(|result| result)
            },
            level.clone(),
        );
        // A fetch that panicked has no body either.
        let fetched: Vec<(String, Result<String, String>)> =
            level.into_iter().zip(bodies.map(|joined| joined.map_err(|e| e.to_string()).and_then(|r| r))).collect();
        let mut next = Vec::new();
        for (url, body) in fetched {
            match body {
                Ok(body) => {
                    let links = links(&url, &body);
                    report.pages.insert(url, links.len());
                    for link in links {
                        if seen.len() < config.max_pages && seen.insert(link.clone()) {
                            next.push(link);
                        }
                    }
                }
                Err(reason) => {
                    report.failed.insert(url, reason);
                }
            }
        }
        level = next;
    }
    report
}

/// An `http://host:port/path` URL.
struct Url {
    authority: String,
    path: String,
}

impl Url {
    fn parse(url: &str) -> Result<Url, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| format!("{url}: only http:// URLs are crawled"))?;
        let (authority, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
        let authority = if authority.contains(':') { authority.to_owned() } else { format!("{authority}:80") };
        Ok(Url { authority, path })
    }
}

/// GETs `url` over green TCP (HTTP/1.0, so the server closes when done).
fn fetch(url: &str) -> Result<String, String> {
    let target = Url::parse(url)?;
    let mut stream = TcpStream::connect(&target.authority, Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
    let host = target.authority.trim_end_matches(":80");
    let request = format!("GET {} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: tatsu-crawler\r\n\r\n", target.path);
    stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(|e| e.to_string())?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n").ok_or("malformed HTTP response")?;
    let status = head.split_whitespace().nth(1).unwrap_or("?");
    if status != "200" {
        return Err(format!("HTTP {status}"));
    }
    Ok(body.to_owned())
}

/// The `href="..."` links of a page that stay on its site, as absolute URLs.
fn links(base: &str, body: &str) -> Vec<String> {
    let Ok(base_url) = Url::parse(base) else { return Vec::new() };
    let site = format!("http://{}", base_url.authority);
    let directory = base_url.path.rsplit_once('/').map_or("", |(dir, _)| dir);
    body.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter_map(|link| {
            let link = link.split('#').next().unwrap_or("");
            if link.is_empty() {
                None
            } else if let Some(absolute) = link.strip_prefix("http://") {
                let url = Url::parse(&format!("http://{absolute}")).ok()?;
                (url.authority == base_url.authority).then(|| format!("{site}{}", url.path))
            } else if link.starts_with('/') {
                Some(format!("{site}{link}"))
            } else if link.contains(':') {
                None
            } else {
                Some(format!("{site}{directory}/{link}"))
            }
        })
        .collect()
}

export_app!(Crawler);

#[cfg(test)]
mod tests {
    use super::links;

    #[test]
    fn links_stay_on_the_site_and_are_made_absolute() {
        let body = r#"<a href="/a">a</a> <a href="b.html#top">b</a> <a href="http://127.0.0.1:8000/c">c</a>
            <a href="http://elsewhere:80/x">x</a> <a href="mailto:me@x">m</a>"#;
        assert_eq!(
            links("http://127.0.0.1:8000/dir/page", body),
            ["http://127.0.0.1:8000/a", "http://127.0.0.1:8000/dir/b.html", "http://127.0.0.1:8000/c"]
        );
    }
}
