//! The two libc calls the daemon needs, behind safe functions. This is the
//! only module allowed to use `unsafe`.
#![allow(unsafe_code)]

/// Sets the process umask and returns the previous one.
pub fn set_umask(mask: u32) -> u32 {
    // SAFETY: umask has no memory-safety preconditions.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}

pub fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}
