//! One invocation, end to end: read the verb, the configuration and the
//! environment, ask berthd, and turn its answer into CNI output.
//!
//! Kept free of process globals (the environment comes through `lookup`,
//! stdin through a reader) so the whole flow is testable in-process.

use crate::client;
use crate::config::{Document, NetConf};
use crate::config_error::ConfigError;
use crate::env::{self, CniEnv, EnvError, Verb};
use crate::errors::{CniErrorJson, Failure};
use crate::ips;
use crate::result;
use crate::version::{self, CniVersion, LATEST};
use berth_proto::{AddRequest, Attachment, CheckRequest, DelRequest, GcRequest, Request, Response};
use std::ffi::OsString;
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

/// What to print on stdout, and whether the invocation succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: Option<String>,
    pub success: bool,
}

/// Runs one invocation. `lookup` reads an environment variable.
pub fn run(lookup: &impl Fn(&str) -> Option<OsString>, stdin: impl Read) -> Outcome {
    run_marked(lookup, stdin, &mut |_| {})
}

/// [`run`], calling `mark` as each step ends ("parsed", "connected",
/// "answered"): how the CNI bench tells where an ADD's time goes.
pub fn run_marked(
    lookup: &impl Fn(&str) -> Option<OsString>,
    stdin: impl Read,
    mark: &mut dyn FnMut(&'static str),
) -> Outcome {
    let call = match prepare(lookup, stdin) {
        Ok(call) => call,
        Err(outcome) => return outcome,
    };
    mark("parsed");
    let answer = client::connect(&call.socket, call.timeout)
        .and_then(|stream| {
            mark("connected");
            client::exchange(stream, &call.socket, call.timeout, call.request)
        })
        .map_err(Failure::from)
        .and_then(|response| {
            mark("answered");
            interpret(call.verb, call.version, response)
        });
    match answer {
        Ok(stdout) => succeeded(stdout),
        Err(failure) => failed(&failure, Some(call.verb), call.version.as_str()),
    }
}

/// A validated request for berthd: where to send it, and the verb and
/// version its answer is read with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub verb: Verb,
    pub version: CniVersion,
    pub socket: PathBuf,
    pub timeout: Duration,
    pub request: Request,
}

/// Everything [`run`] does before it talks to berthd: the environment and
/// stdin parsed and validated into one request, or the finished outcome
/// when no daemon is needed (VERSION, or a failure). Reads nothing but
/// `lookup` and `stdin`, which is what the fuzz targets rely on.
pub fn prepare(
    lookup: &impl Fn(&str) -> Option<OsString>,
    stdin: impl Read,
) -> Result<Call, Outcome> {
    let verb = match env::read_verb(lookup) {
        Ok(verb) => verb,
        Err(e) => return Err(failed(&e.into(), None, LATEST.as_str())),
    };
    let doc = match read_document(verb, stdin) {
        Ok(doc) => doc,
        Err(e) => return Err(failed(&e.into(), Some(verb), LATEST.as_str())),
    };
    // Only VERSION may arrive without input.
    let Some(doc) = doc else {
        return Err(succeeded(Some(version::version_answer(None))));
    };
    if verb == Verb::Version {
        return Err(succeeded(Some(version::version_answer(doc.raw_version()))));
    }
    // Errors echo the request's version when Berth speaks it, so the
    // runtime parses them with the rules it asked for.
    let reply_version = doc
        .raw_version()
        .and_then(CniVersion::parse)
        .unwrap_or(LATEST)
        .as_str();
    prepare_call(verb, doc, lookup).map_err(|failure| failed(&failure, Some(verb), reply_version))
}

/// Reads stdin. VERSION may come with no input at all (`None`).
fn read_document(verb: Verb, stdin: impl Read) -> Result<Option<Document>, ConfigError> {
    if verb != Verb::Version {
        return Document::read(stdin).map(Some);
    }
    let mut bytes = Vec::new();
    stdin
        .take(crate::limits::MAX_STDIN_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(ConfigError::Stdin)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    Document::parse(&bytes).map(Some)
}

fn prepare_call(
    verb: Verb,
    doc: Document,
    lookup: &impl Fn(&str) -> Option<OsString>,
) -> Result<Call, Failure> {
    // The version first: a runtime speaking another version gets code 1
    // rather than complaints about fields it may name differently.
    doc.version_for(verb)?;
    let env = env::read_env(verb, lookup)?;
    let socket_fallback = match lookup("BERTH_SOCKET").filter(|v| !v.is_empty()) {
        None => None,
        Some(value) => Some(value.into_string().map_err(|_| EnvError::NotUtf8 {
            var: "BERTH_SOCKET",
        })?),
    };
    let conf = doc.into_netconf(verb, socket_fallback.as_deref())?;
    let request = build_request(&env, &conf)?;
    Ok(Call {
        verb,
        version: conf.version,
        socket: conf.ipam.socket,
        timeout: conf.ipam.timeout,
        request,
    })
}

fn build_request(env: &CniEnv, conf: &NetConf) -> Result<Request, Failure> {
    let network = conf.network.clone();
    Ok(match env.verb {
        Verb::Add => {
            let mut requested = conf.requested_ips.clone();
            for text in &env.args.ips {
                let addr = ips::parse_requested(text).map_err(|reason| EnvError::RequestedIp {
                    value: text.clone(),
                    reason,
                })?;
                requested.push(addr);
            }
            Request::Add(AddRequest {
                attachment: attachment(env)?,
                network,
                pod: env.args.pod.clone(),
                pools: conf.ipam.pools.clone(),
                requested_ips: ips::dedup(requested),
                clean_gateway: conf.ipam.clean_gateway,
                labels: conf.labels.clone(),
            })
        }
        Verb::Del => Request::Del(DelRequest {
            attachment: attachment(env)?,
            network,
            pod: env.args.pod.clone(),
        }),
        Verb::Check => Request::Check(CheckRequest {
            attachment: attachment(env)?,
            network,
            expected: conf.prev_addresses.clone(),
        }),
        Verb::Gc => Request::Gc(GcRequest {
            network,
            valid: conf.valid_attachments.clone(),
        }),
        Verb::Status => Request::Status,
        // Answered before any request is built.
        Verb::Version => {
            return Err(Failure::UnexpectedAnswer {
                verb: "VERSION",
                got: "a request to berthd",
            })
        }
    })
}

/// `read_env` sets the attachment for every verb that reaches here with
/// one; this turns the impossible case into an error instead of a panic.
fn attachment(env: &CniEnv) -> Result<Attachment, EnvError> {
    env.attachment.clone().ok_or(EnvError::Missing {
        missing: vec!["CNI_CONTAINERID", "CNI_IFNAME"],
        verb: env.verb.as_str(),
    })
}

fn interpret(
    verb: Verb,
    version: CniVersion,
    response: Response,
) -> Result<Option<String>, Failure> {
    match (verb, response) {
        (_, Response::Error(body)) => Err(Failure::Daemon(body)),
        (Verb::Add, Response::Added(added)) => Ok(Some(result::render_add(version, &added)?)),
        (Verb::Add, _) => Err(Failure::UnexpectedAnswer {
            verb: "ADD",
            got: "something other than an address",
        }),
        (_, Response::Ok) => Ok(None),
        // Added, or an operator answer: none fits a DEL/CHECK/GC/STATUS.
        (verb, _) => Err(Failure::UnexpectedAnswer {
            verb: verb.as_str(),
            got: "something other than ok",
        }),
    }
}

fn succeeded(stdout: Option<String>) -> Outcome {
    Outcome {
        stdout,
        success: true,
    }
}

fn failed(failure: &Failure, verb: Option<Verb>, cni_version: &str) -> Outcome {
    Outcome {
        stdout: Some(CniErrorJson::new(failure, verb, cni_version).to_json()),
        success: false,
    }
}
