//! The crawler example against a small site served on loopback by this test: it follows links concurrently, cuts
//! a slow page short with its Timeout, reports a missing page, and fetches several pages at once.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{install, lib_path, temp_dir, Host};

/// The site: `/` links to `/a`, `/b`, `/slow` and eight `/dN` pages that each take 300 ms; `/a` links to `/c`
/// and `/missing`.
fn page(path: &str) -> Option<(Duration, String)> {
    let links = |targets: &[&str]| targets.iter().map(|t| format!("<a href=\"{t}\">{t}</a>")).collect::<String>();
    match path {
        "/" => {
            let mut targets = vec!["/a".to_owned(), "b".to_owned(), "/slow".to_owned()];
            targets.extend((1..=8).map(|n| format!("/d{n}")));
            let refs: Vec<&str> = targets.iter().map(String::as_str).collect();
            Some((Duration::ZERO, links(&refs)))
        }
        "/a" => Some((Duration::ZERO, links(&["/c", "/missing", "http://elsewhere.invalid/x"]))),
        "/b" | "/c" => Some((Duration::ZERO, links(&["/"]))),
        "/slow" => Some((Duration::from_secs(5), String::new())),
        _ if path.starts_with("/d") => Some((Duration::from_millis(300), links(&["/a"]))),
        _ => None,
    }
}

fn serve(listener: TcpListener, active: Arc<AtomicUsize>, most: Arc<AtomicUsize>) {
    for stream in listener.incoming().map_while(Result::ok) {
        let (active, most) = (Arc::clone(&active), Arc::clone(&most));
        std::thread::spawn(move || {
            let now = active.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            answer(stream);
            active.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

fn answer(mut stream: TcpStream) {
    let mut request_line = String::new();
    if BufReader::new(&stream).read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let response = match page(&path) {
        Some((delay, body)) => {
            std::thread::sleep(delay);
            format!("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}", body.len())
        }
        None => "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned(),
    };
    let _ = stream.write_all(response.as_bytes());
}

#[test]
fn crawls_concurrently_with_timeouts_and_reports_what_it_found() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the site");
    let port = listener.local_addr().expect("addr").port();
    let (active, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let most_seen = Arc::clone(&most);
    std::thread::spawn(move || serve(listener, active, most));

    let dir = temp_dir("crawler");
    install(&dir, &[(&lib_path("crawler"), "libcrawler.so")]);
    let config = dir.join("tatsu.toml");
    std::fs::write(
        &config,
        format!("[app.crawler]\nstart_url = \"http://127.0.0.1:{port}/\"\nconcurrency = 8\nfetch_timeout_ms = 1000\n"),
    )
    .expect("config");
    let host = Host::start(
        &[
            "run",
            "--plugins-dir",
            &dir.display().to_string(),
            "--config",
            &config.display().to_string(),
            "--ofp-tcp-listen-port",
            "0",
        ],
        &[],
    );
    let report = host.wait_for(&["crawler]", "crawled"]);
    let site = format!("http://127.0.0.1:{port}");
    assert!(report.contains("crawled 12 page(s), 2 failed"), "{report}");
    for path in ["/", "/a", "/b", "/c", "/d1", "/d8"] {
        assert!(report.contains(&format!("\"{site}{path}\"")), "{path} in {report}");
    }
    assert!(report.contains(&format!("\"{site}/slow\": \"timed out after 1s\"")), "{report}");
    assert!(report.contains(&format!("\"{site}/missing\": \"HTTP 404\"")), "{report}");
    assert!(!report.contains("elsewhere"), "links off the site are not followed: {report}");
    let most = most_seen.load(Ordering::SeqCst);
    assert!(most >= 4, "pages are fetched concurrently (at most {most} at once)");
    host.stop();
}
