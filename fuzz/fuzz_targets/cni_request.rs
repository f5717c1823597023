//! The CNI plugin's whole input: environment variables and stdin, through
//! `berth_cni::plugin::prepare`, which is everything `plugin::run` does
//! before it talks to berthd.
//!
//! Input format (so seeds stay readable): `NAME=value` lines, one
//! variable each, up to the first empty line; everything after it is stdin.
//! Values are raw bytes, so non-UTF-8 variables are reached too.
//!
//! Properties:
//! * an outcome that needs no daemon (VERSION, or a failure) is one line
//!   of JSON; a failure carries one of the codes the plugin gives without
//!   asking berthd (1, 4, 5, 6, 7), a message, and a `cniVersion` berth
//!   speaks;
//! * a request for berthd only comes out of valid input: a verb the
//!   `cniVersion` defines, a spec-conforming container id, interface name
//!   and network name taken unchanged from the input, an absolute socket
//!   path that fits `sun_path`, a timeout in 1..=600000 ms, requested
//!   addresses that are plain, distinct IP addresses, CHECK's addresses in
//!   CIDR form, no blank pool name;
//! * the request survives the wire: framed and read back it is equal, or
//!   it is refused as too large, and only when its JSON is over the limit;
//! * the same input gives the same answer.

#![no_main]

use berth_cni::errors;
use berth_cni::plugin::{prepare, Call, Outcome};
use berth_proto::{Request, MAX_FRAME_BYTES};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

/// Codes `prepare` itself may answer with: nothing that needs berthd.
const LOCAL_CODES: [u32; 5] = [
    errors::INCOMPATIBLE_VERSION,
    errors::INVALID_ENV,
    errors::IO_FAILURE,
    errors::DECODE_FAILURE,
    errors::INVALID_CONFIG,
];

fuzz_target!(|data: &[u8]| {
    let (env, stdin) = split(data);
    let lookup = |name: &str| env.get(name).cloned();
    let first = prepare(&lookup, stdin);
    let again = prepare(&lookup, stdin);
    assert_eq!(first, again, "same input, different answer");
    match first {
        Err(outcome) => check_outcome(&outcome, &env),
        Ok(call) => check_call(&call, &env, stdin),
    }
});

fn split(data: &[u8]) -> (HashMap<String, OsString>, &[u8]) {
    let mut env = HashMap::new();
    let mut rest = data;
    loop {
        let (line, after) = match rest.iter().position(|b| *b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = after;
        if line.is_empty() {
            break;
        }
        // Names are what the plugin looks up: text. Values are anything.
        if let Some(eq) = line.iter().position(|b| *b == b'=') {
            if let Ok(name) = std::str::from_utf8(&line[..eq]) {
                let value = OsString::from_vec(line[eq + 1..].to_vec());
                env.insert(name.to_owned(), value);
            }
        }
    }
    (env, rest)
}

fn var<'a>(env: &'a HashMap<String, OsString>, name: &str) -> Option<&'a str> {
    env.get(name).and_then(|v| v.to_str())
}

fn check_outcome(outcome: &Outcome, env: &HashMap<String, OsString>) {
    let text = outcome
        .stdout
        .as_deref()
        .expect("every local answer prints");
    assert!(!text.contains('\n'), "answer is not one line: {text:?}");
    let json: serde_json::Value = serde_json::from_str(text).expect("answer is JSON");
    if outcome.success {
        // Only VERSION is answered without berthd.
        assert_eq!(var(env, "CNI_COMMAND"), Some("VERSION"), "{text}");
        assert!(json["supportedVersions"].is_array(), "{text}");
        assert!(json["cniVersion"].is_string(), "{text}");
        return;
    }
    let code = json["code"].as_u64().expect("error code");
    assert!(
        LOCAL_CODES.iter().any(|c| u64::from(*c) == code),
        "code {code} is not one the plugin gives without asking berthd: {text}"
    );
    let version = json["cniVersion"].as_str().expect("cniVersion");
    assert!(
        berth_cni::version::CniVersion::parse(version).is_some(),
        "error answers in a version berth does not speak: {text}"
    );
    assert!(!json["msg"].as_str().expect("msg").is_empty(), "{text}");
    assert!(json["details"].is_string(), "{text}");
}

fn check_call(call: &Call, env: &HashMap<String, OsString>, stdin: &[u8]) {
    let verb = var(env, "CNI_COMMAND").expect("a call needs a verb");
    assert_eq!(verb, call.verb.as_str());
    assert!(call.version.allows(call.verb), "{call:?}");
    let doc: serde_json::Value = serde_json::from_slice(stdin).expect("a call needs JSON stdin");
    assert_eq!(doc["cniVersion"].as_str(), Some(call.version.as_str()));

    let socket = call.socket.to_str().expect("socket path is text");
    assert!(socket.starts_with('/') && socket.len() <= 107, "{socket:?}");
    let ms = call.timeout.as_millis();
    assert!((1..=600_000).contains(&ms), "timeout {ms} ms");

    let network = match &call.request {
        Request::Add(r) => {
            check_attachment(&r.attachment, env);
            let mut seen = r.requested_ips.clone();
            seen.sort();
            seen.dedup();
            assert_eq!(
                seen.len(),
                r.requested_ips.len(),
                "duplicate requested address"
            );
            assert!(
                r.pools.iter().all(|p| !p.trim().is_empty()),
                "{:?}",
                r.pools
            );
            &r.network
        }
        Request::Del(r) => {
            check_attachment(&r.attachment, env);
            &r.network
        }
        Request::Check(r) => {
            check_attachment(&r.attachment, env);
            assert!(!r.expected.is_empty());
            // Typed: every expected entry is an address with its prefix.
            &r.network
        }
        Request::Gc(r) => &r.network,
        Request::Status => &String::new(),
        Request::Admin(_) => panic!("the plugin never sends operator requests"),
    };
    if !matches!(call.request, Request::Status) {
        assert!(spec_name(network), "network name {network:?}");
        assert_eq!(doc["name"].as_str(), Some(network.as_str()));
    }
    check_wire(&call.request);
}

fn check_attachment(attachment: &berth_proto::Attachment, env: &HashMap<String, OsString>) {
    assert_eq!(
        var(env, "CNI_CONTAINERID"),
        Some(attachment.container_id.as_str())
    );
    assert_eq!(var(env, "CNI_IFNAME"), Some(attachment.ifname.as_str()));
    assert!(spec_name(&attachment.container_id), "{attachment:?}");
    let ifname = &attachment.ifname;
    assert!(!ifname.is_empty() && ifname.len() <= 15, "{ifname:?}");
    assert!(ifname != "." && ifname != "..", "{ifname:?}");
    assert!(
        !ifname
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace()),
        "{ifname:?}"
    );
}

/// The CNI spec's rule for container ids and network names.
fn spec_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn check_wire(request: &Request) {
    let body = serde_json::to_vec(request).expect("requests serialise");
    let mut frame = Vec::new();
    match berth_proto::write_frame(&mut frame, request) {
        Ok(()) => {
            assert!(body.len() <= MAX_FRAME_BYTES as usize);
            let back: Request =
                berth_proto::read_frame(&mut frame.as_slice()).expect("own frame reads back");
            assert_eq!(&back, request);
        }
        Err(berth_proto::FrameError::TooLarge { len_bytes }) => {
            assert_eq!(len_bytes, body.len() as u64);
            assert!(body.len() > MAX_FRAME_BYTES as usize);
        }
        Err(other) => panic!("framing a request failed: {other}"),
    }
}
