//! `CNI_ARGS` (`K=V;K=V`) through `berth_cni::cni_args::parse`.
//!
//! Properties:
//! * what parses round-trips: the keys Berth reads, written back out in
//!   canonical form, parse to the same value;
//! * the order of the pairs does not matter: reversed, the input parses
//!   to the same value, or fails as well;
//! * parsed values are trimmed and carry no `;` (the separator), and the
//!   `IP` list has no empty or `,`-containing entry;
//! * errors render.

#![no_main]

use berth_cni::cni_args::{parse, CniArgs};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The environment reader refuses non-UTF-8 before parsing.
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = parse(raw);
    let reversed: Vec<&str> = raw.split(';').rev().collect();
    let reversed = parse(&reversed.join(";"));
    match (&parsed, &reversed) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "pair order changed the result of {raw:?}"),
        (Err(_), Err(_)) => {}
        _ => panic!("pair order changed success of {raw:?}: {parsed:?} vs {reversed:?}"),
    }
    let args = match parsed {
        Ok(args) => args,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    for value in [&args.pod.namespace, &args.pod.name, &args.pod.uid]
        .into_iter()
        .chain(args.infra_container_id.as_ref())
    {
        assert_eq!(value.trim(), value, "untrimmed value from {raw:?}");
        assert!(!value.contains(';'), "{value:?}");
    }
    for ip in &args.ips {
        assert!(
            !ip.is_empty() && !ip.contains(',') && ip.trim() == ip,
            "{ip:?}"
        );
    }
    let canonical = render(&args);
    assert_eq!(
        parse(&canonical).as_ref(),
        Ok(&args),
        "{raw:?} rendered as {canonical:?}"
    );
});

fn render(args: &CniArgs) -> String {
    let mut out = vec![
        format!("K8S_POD_NAMESPACE={}", args.pod.namespace),
        format!("K8S_POD_NAME={}", args.pod.name),
        format!("K8S_POD_UID={}", args.pod.uid),
    ];
    if let Some(id) = &args.infra_container_id {
        out.push(format!("K8S_POD_INFRA_CONTAINER_ID={id}"));
    }
    if !args.ips.is_empty() {
        out.push(format!("IP={}", args.ips.join(",")));
    }
    if args.ignore_unknown {
        out.push("IgnoreUnknown=1".into());
    }
    out.join(";")
}
