fn main() {
    tune_allocator();
    if let Err(e) = adal::cli::run() {
        eprintln!("adal: {e:#}");
        std::process::exit(1);
    }
}

/// glibc's allocator, set before any thread starts (an environment variable the operator sets
/// wins). By default it keeps up to eight arenas per core, one per thread that allocates, each
/// holding on to what it once needed, and it raises its mmap threshold after the first large free,
/// so Argon2's 19 MiB buffer stays in the heap after the first login. Under the benchmark's load
/// that was the difference between 103 MB and 73 MB of peak RSS on SQLite (bench/run.sh; the
/// same run with MALLOC_ARENA_MAX and MALLOC_MMAP_THRESHOLD_ set by hand).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(2);
    // SAFETY: mallopt only adjusts allocator parameters; it is called before any other thread
    // exists, as glibc requires for M_ARENA_MAX to take effect for every thread.
    unsafe {
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            libc::mallopt(libc::M_ARENA_MAX, cores as libc::c_int);
        }
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}
