//! Floods: idle connections on the socket, descriptor exhaustion from the
//! metrics port, and operator answers larger than one protocol frame.

use berth_e2e::daemon::{Daemon, Launch};
use berth_e2e::raw::{add_request, ask, Response};
use serde_json::json;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

fn lab(subnet: &str) -> serde_json::Value {
    json!({ "pools": [{ "name": "lab", "subnet": subnet, "default": true }], "policies": [] })
}

/// Whether the daemon still keeps `stream` open (it has not hung up).
fn still_open(stream: &mut UnixStream) -> bool {
    stream.set_nonblocking(true).expect("nonblocking");
    let mut byte = [0u8; 1];
    matches!(stream.read(&mut byte), Err(e) if e.kind() == ErrorKind::WouldBlock)
}

#[test]
fn idle_connections_take_no_request_slot() {
    let mut cfg = lab("10.61.0.0/24");
    cfg["limits"] = json!({ "requestsInFlightMax": 2, "requestTimeoutMs": 5000 });
    let daemon = Daemon::start(cfg);
    let mut idle: Vec<UnixStream> = (0..50)
        .map(|_| UnixStream::connect(&daemon.socket).expect("idle connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let answer = ask(
        &daemon.socket,
        &add_request("real", &["lab"]),
        Duration::from_secs(10),
    );
    assert!(matches!(answer, Ok(Response::Added(_))), "{answer:?}");
    // Answered while the idle connections were still waiting: they held no
    // slot (before, the ADD queued until they timed out and were closed).
    assert!(
        still_open(&mut idle[0]),
        "the ADD waited for idle connections to time out"
    );
}

#[test]
fn a_request_written_in_slow_pieces_is_still_answered() {
    let daemon = Daemon::start(lab("10.64.0.0/24"));
    let mut frame = Vec::new();
    berth_proto::write_frame(&mut frame, &add_request("slow", &["lab"])).expect("encode");
    // Longer than an acceptor thread waits (SOCKET_PROMPT_READ_MS) before
    // it hands the connection to the async path, twice: once inside the
    // length prefix, once inside the body.
    let pause = Duration::from_millis(300);
    let mut stream = UnixStream::connect(&daemon.socket).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    for piece in [&frame[..2], &frame[2..10], &frame[10..]] {
        stream.write_all(piece).expect("write a piece");
        std::thread::sleep(pause);
    }
    let answer: Response = berth_proto::read_frame(&mut stream).expect("an answer");
    assert!(matches!(answer, Response::Added(_)), "{answer:?}");
}

#[test]
fn requests_beyond_the_acceptor_threads_are_all_served() {
    let mut cfg = lab("10.65.0.0/24");
    cfg["limits"] = json!({ "requestsInFlightMax": 2, "requestTimeoutMs": 10000 });
    let daemon = Daemon::start(cfg);
    // More half-sent requests than there are acceptor threads: each
    // thread that picks one up waits, then hands it over; none may stop
    // the daemon from accepting and answering the rest.
    let mut held: Vec<UnixStream> = (0..16)
        .map(|_| {
            let mut s = UnixStream::connect(&daemon.socket).expect("connect");
            s.write_all(&[0, 0]).expect("half a length prefix");
            s
        })
        .collect();
    let answers: Vec<_> = std::thread::scope(|scope| {
        let asks: Vec<_> = (0..12)
            .map(|i| {
                let socket = &daemon.socket;
                scope.spawn(move || {
                    ask(
                        socket,
                        &add_request(&format!("many-{i}"), &["lab"]),
                        Duration::from_secs(10),
                    )
                })
            })
            .collect();
        asks.into_iter()
            .map(|a| a.join().expect("thread"))
            .collect()
    });
    for answer in &answers {
        assert!(matches!(answer, Ok(Response::Added(_))), "{answer:?}");
    }
    assert!(still_open(&mut held[0]), "a held connection was dropped");
}

#[test]
fn descriptor_exhaustion_backs_off_instead_of_spinning() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut cfg = lab("10.62.0.0/24");
    cfg["metricsAddress"] = json!(format!("127.0.0.1:{port}"));
    cfg["limits"] = json!({ "requestTimeoutMs": 3000 });
    // systemd-like limits, low enough to exhaust: berthd raises its soft
    // limit to the hard one, so the hard one is what is set here.
    let launch = Launch {
        env: vec![],
        wrapper: ["prlimit", "--nofile=160:160", "--"]
            .map(String::from)
            .to_vec(),
    };
    let daemon = Daemon::start_with(cfg, &std::env::temp_dir(), launch);
    let mut held = Vec::new();
    for _ in 0..400 {
        if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            held.push(s);
        }
    }
    let mut idle = Vec::new();
    for _ in 0..400 {
        if let Ok(s) = UnixStream::connect(&daemon.socket) {
            idle.push(s);
        }
    }
    std::thread::sleep(Duration::from_secs(2));
    let log = daemon.log();
    let complaints = log.matches("accept failed").count();
    assert!(
        complaints <= 20,
        "{complaints} accept-failure lines in 2 s: the accept loop spins"
    );
    drop(held);
    drop(idle);
    // Once the flood is gone, requests are served again.
    let mut served = false;
    for _ in 0..50 {
        if let Ok(Response::Added(_)) = ask(
            &daemon.socket,
            &add_request("after", &["lab"]),
            Duration::from_secs(5),
        ) {
            served = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        served,
        "berthd did not recover after the flood:\n{}",
        daemon.log()
    );
}

#[test]
fn listing_more_allocations_than_one_frame_holds_pages_through_them() {
    let daemon = Daemon::start(lab("10.63.0.0/22"));
    let count = 600;
    for i in 0..count {
        let answer = ask(
            &daemon.socket,
            &add_request(&format!("c{i}"), &["lab"]),
            Duration::from_secs(10),
        );
        assert!(matches!(answer, Ok(Response::Added(_))), "{answer:?}");
    }
    let all = daemon.allocations();
    assert_eq!(all.len(), count, "every allocation, over several pages");
    let distinct: std::collections::BTreeSet<String> =
        all.iter().map(|a| a["address"].to_string()).collect();
    assert_eq!(distinct.len(), count, "no page repeats or skips a record");
}
