//! `fetch-policy` against a tiny HTTP server on 127.0.0.1.

#![allow(clippy::unwrap_used)]

use super::*;
use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const MAX: u64 = 1024;

#[derive(Clone)]
enum Reply {
    /// 200 with a Content-Length.
    Body(Vec<u8>),
    /// 200 without a length: the body ends when the connection closes.
    Stream(Vec<u8>),
    Status(u16),
}

/// Serves `routes` (path → reply) until the test process ends; counts the
/// requests per path.
struct Server {
    base: String,
    hits: Arc<HashMap<String, AtomicUsize>>,
}

impl Server {
    fn start(routes: &[(&str, Reply)]) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: HashMap<String, Reply> = routes
            .iter()
            .map(|(p, r)| (p.to_string(), r.clone()))
            .collect();
        let hits: Arc<HashMap<String, AtomicUsize>> = Arc::new(
            routes
                .keys()
                .map(|p| (p.clone(), AtomicUsize::new(0)))
                .collect(),
        );
        let counters = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let path = line.split(' ').nth(1).unwrap_or("").to_owned();
                // Skip the headers.
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    if header == "\r\n" || header.is_empty() {
                        break;
                    }
                }
                if let Some(count) = counters.get(&path) {
                    count.fetch_add(1, Ordering::SeqCst);
                }
                let (head, body) = match routes.get(&path) {
                    Some(Reply::Body(b)) => (
                        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n", b.len()),
                        b.clone(),
                    ),
                    Some(Reply::Stream(b)) => ("HTTP/1.1 200 OK\r\n".to_owned(), b.clone()),
                    Some(Reply::Status(code)) => (
                        format!("HTTP/1.1 {code} Nope\r\nContent-Length: 0\r\n"),
                        Vec::new(),
                    ),
                    None => (
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n".to_owned(),
                        Vec::new(),
                    ),
                };
                // The client may hang up early (an oversize refusal).
                if let Err(e) = stream
                    .write_all(format!("{head}Connection: close\r\n\r\n").as_bytes())
                    .and_then(|()| stream.write_all(&body))
                {
                    eprintln!("test server: {path}: client hung up: {e}");
                }
            }
        });
        Server { base, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits[path].load(Ordering::SeqCst)
    }
}

fn fetcher() -> Fetcher {
    Fetcher::new(Limits {
        max_bytes: MAX,
        attempts: 3,
        first_backoff: Duration::from_millis(1),
        connect_timeout: Duration::from_secs(5),
        attempt_timeout: Duration::from_secs(10),
    })
}

fn policy(name: &str, url: String, content: &[u8]) -> PolicySource {
    PolicySource {
        name: name.to_owned(),
        url,
        sha256: hex::encode(Sha256::digest(content)),
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn a_module_with_the_pinned_digest_lands_read_only_under_its_name() {
    let module = b"\0asm module bytes".to_vec();
    let server = Server::start(&[("/p.wasm", Reply::Body(module.clone()))]);
    let dir = tempfile::tempdir().unwrap();

    let done = fetcher()
        .fetch(dir.path(), &policy("quota", server.url("/p.wasm"), &module))
        .unwrap();

    assert_eq!(done.path, dir.path().join("quota.wasm"));
    assert_eq!(done.bytes, module.len() as u64);
    assert!(!done.reused);
    assert_eq!(fs::read(&done.path).unwrap(), module);
    let mode = fs::metadata(&done.path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o444);
    assert_eq!(names_in(dir.path()), ["quota.wasm"]);

    // Run again (a restarted pod keeps its emptyDir): nothing downloaded.
    let again = fetcher()
        .fetch(dir.path(), &policy("quota", server.url("/p.wasm"), &module))
        .unwrap();
    assert!(again.reused);
    assert_eq!(server.hits("/p.wasm"), 1);
}

#[test]
fn a_wrong_digest_is_refused_naming_both_and_leaves_nothing() {
    let server = Server::start(&[("/p.wasm", Reply::Body(b"tampered".to_vec()))]);
    let dir = tempfile::tempdir().unwrap();
    let wanted = policy("quota", server.url("/p.wasm"), b"genuine");

    let err = fetcher().fetch(dir.path(), &wanted).unwrap_err();

    let FetchError::DigestMismatch {
        expected, actual, ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(expected, &wanted.sha256);
    assert_eq!(actual, &hex::encode(Sha256::digest(b"tampered")));
    let message = err.to_string();
    assert!(message.contains(expected.as_str()) && message.contains(actual.as_str()));
    assert!(names_in(dir.path()).is_empty());
    // Not retried: the same bytes would come back.
    assert_eq!(server.hits("/p.wasm"), 1);
}

#[test]
fn an_oversized_module_is_refused_declared_or_not() {
    let big = vec![7u8; MAX as usize + 1];
    let server = Server::start(&[
        ("/declared", Reply::Body(big.clone())),
        ("/streamed", Reply::Stream(big.clone())),
    ]);
    let dir = tempfile::tempdir().unwrap();
    for path in ["/declared", "/streamed"] {
        let err = fetcher()
            .fetch(dir.path(), &policy("big", server.url(path), &big))
            .unwrap_err();
        assert!(
            matches!(err, FetchError::TooLarge { max: MAX, .. }),
            "{err}"
        );
        assert!(names_in(dir.path()).is_empty(), "{path}");
        assert_eq!(server.hits(path), 1, "{path}");
    }
    // Exactly the limit is fine.
    let fits = vec![7u8; MAX as usize];
    let server = Server::start(&[("/fits", Reply::Stream(fits.clone()))]);
    fetcher()
        .fetch(dir.path(), &policy("fits", server.url("/fits"), &fits))
        .unwrap();
}

#[test]
fn server_errors_are_retried_and_a_404_is_not() {
    let server = Server::start(&[("/busy", Reply::Status(503)), ("/gone", Reply::Status(404))]);
    let dir = tempfile::tempdir().unwrap();

    let err = fetcher()
        .fetch(dir.path(), &policy("busy", server.url("/busy"), b"x"))
        .unwrap_err();
    assert!(matches!(err, FetchError::Http { .. }), "{err}");
    assert_eq!(server.hits("/busy"), 3);

    let err = fetcher()
        .fetch(dir.path(), &policy("gone", server.url("/gone"), b"x"))
        .unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
    assert_eq!(server.hits("/gone"), 1);
    assert!(names_in(dir.path()).is_empty());
}

#[test]
fn names_that_could_leave_the_directory_are_refused() {
    let digest = "a".repeat(64);
    for bad in [
        "", "..", "../x", "a/b", "/abs", ".hidden", "a..b", "sp ace", "nul\0",
    ] {
        let args = [
            bad.to_owned(),
            "https://x/p.wasm".to_owned(),
            digest.clone(),
        ];
        let err = parse(&args).unwrap_err();
        assert!(matches!(err, FetchError::BadName(_)), "{bad:?}: {err}");
    }
    let ok = parse(&[
        "by-label".to_owned(),
        "https://x/p.wasm".to_owned(),
        "A".repeat(64),
    ])
    .unwrap();
    assert_eq!(ok[0].sha256, digest, "digests are compared lowercase");
}

#[test]
fn arguments_come_in_valid_triples() {
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let digest = "0".repeat(64);
    let err = parse(&s(&["a", "https://x"])).unwrap_err();
    assert!(matches!(err, FetchError::Arity(2)), "{err}");
    let err = parse(&s(&["a", "ftp://x", &digest])).unwrap_err();
    assert!(matches!(err, FetchError::BadUrl { .. }), "{err}");
    let err = parse(&s(&["a", "https://x", "abc"])).unwrap_err();
    assert!(matches!(err, FetchError::BadDigest { .. }), "{err}");
    let err = parse(&s(&["a", "https://x", &digest, "a", "https://y", &digest])).unwrap_err();
    assert!(matches!(err, FetchError::Duplicate(_)), "{err}");
}
