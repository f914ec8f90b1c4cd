//! The process allocator's handling of large blocks, set once when a warehouse opens.
//!
//! A statement may build values up to [`super::sqlite::MAX_VALUE_BYTES`] (16 MiB) each
//! (`upper(printf('%.*c', 15000000, 'x'))`), and SQLite takes them from the C allocator. glibc
//! serves a block over its mmap threshold with its own mapping and unmaps it when freed, but the
//! threshold is dynamic: each freed mapped block raises it to that block's size (up to 32 MiB,
//! `mallopt(3)`, "M_MMAP_THRESHOLD"). After one such statement, later 15 MiB blocks come from the
//! arenas and stay in the process after they are freed, and the next question's work adds to
//! them. A fixed threshold turns the dynamic one off, so a freed large block goes back to the
//! system at once. Measured on the hostile corpus of `tests/hardening.rs` (VmHWM of the
//! server): 516 MB with the dynamic threshold, 370 MB with this one set first thing in `main`.
//! The command calls it before anything else; a library user gets it when the first SQLite
//! warehouse opens.

use std::sync::Once;

/// Blocks of this many bytes or more get their own mapping and are returned when freed:
/// 1 MiB, far over what the pipeline allocates per question, far under one large value.
pub const MMAP_THRESHOLD_BYTES: i32 = 1024 * 1024;

static SET: Once = Once::new();

/// Fixes the C allocator's mmap threshold at [`MMAP_THRESHOLD_BYTES`], once per process; later
/// calls do nothing. Only glibc has the setting; elsewhere this does nothing. Never fails: if
/// glibc refuses the value, the dynamic threshold stays and only memory is retained longer.
pub fn return_large_blocks() {
    SET.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt only sets an allocator parameter; glibc documents it as safe to call
        // at any time, from any thread.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
        }
    });
}
