//! Which certificate authorities `fetch-policy` trusts for https.
//!
//! The system's store when it has one (`SSL_CERT_FILE`, `SSL_CERT_DIR`,
//! /etc/ssl/certs: a node or network with its own CA, e.g. an
//! intercepting proxy, is trusted as curl would trust it), else the
//! Mozilla roots built into berthd: the Berth image has no CA store of its
//! own. Either way the pinned sha256 is what makes a module trustworthy;
//! TLS only keeps the download private.

use std::sync::Arc;
use ureq::tls::{Certificate, RootCerts};

/// The roots, and a line for the log saying which were chosen.
pub fn root_certs() -> (RootCerts, String) {
    let native = rustls_native_certs::load_native_certs();
    if native.certs.is_empty() {
        let why = match native.errors.first() {
            Some(e) => format!(" ({e})"),
            None => String::new(),
        };
        return (
            RootCerts::WebPki,
            format!("no system CA store{why}: trusting berthd's built-in Mozilla roots"),
        );
    }
    // Some certificates loaded: a store with one bad file still counts;
    // say what was skipped rather than lose it.
    for e in &native.errors {
        eprintln!("warning: part of the system CA store was not read: {e}");
    }
    let certs: Vec<Certificate<'static>> = native
        .certs
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    let note = format!(
        "trusting the system CA store ({} certificates)",
        certs.len()
    );
    (RootCerts::Specific(Arc::new(certs)), note)
}
