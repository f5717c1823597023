//! The libc calls the daemon needs, behind safe functions. This is the
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

/// Raises the soft RLIMIT_NOFILE to the hard limit; returns (old, new).
pub fn raise_nofile_to_hard_limit() -> std::io::Result<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only into the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let old = limit.rlim_cur;
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: setrlimit reads only the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok((old, limit.rlim_cur))
}

/// The uid of the process at the other end of a connected unix socket.
pub fn peer_uid(socket: &impl std::os::fd::AsRawFd) -> std::io::Result<u32> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `cred`, a valid,
    // writable ucred of exactly that size; the fd is borrowed, so open.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast::<libc::c_void>(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(cred.uid)
}

/// Stops a listening socket: every thread blocked in `accept` on it wakes
/// with an error (EINVAL), and so does every later `accept`.
pub fn shut_listener(listener: &impl std::os::fd::AsRawFd) -> std::io::Result<()> {
    // SAFETY: shutdown only reads its integer arguments; the fd is
    // borrowed, so open.
    if unsafe { libc::shutdown(listener.as_raw_fd(), libc::SHUT_RD) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Returns the heap the C library keeps after a one-time bulk load (the
/// start-up read of every record) to the system. glibc keeps freed
/// memory in its arenas: in Kubernetes mode at 100,000 cluster addresses
/// this returned 12 MiB (kube_scale: 183.5 → 171.3 MiB). musl's allocator
/// (the image's build) gives memory back by itself and has no such call.
pub fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own arenas; it has no
    // preconditions and returns whether it released anything.
    unsafe {
        libc::malloc_trim(0);
    }
}
