//! Row-at-a-time inserts through SQLite's C API, on the import's own connection and inside
//! its transaction, for the historical import's hot path.
//!
//! Why not sqlx here: every statement sqlx runs is a round trip to its worker thread, and a
//! multi-row INSERT (the way to amortise that) must keep a statement journal to undo itself,
//! which copies every page it touches — together more than half the import's time. One
//! prepared single-row INSERT stepped per row is what the `sqlite3` shell's `.import` does,
//! and runs at its speed. The connection is borrowed from sqlx with `lock_handle`, so the
//! statements join the open transaction and sqlx's worker waits meanwhile.

use std::ffi::{CStr, CString, c_int};
use std::ptr::{NonNull, null_mut};

use libsqlite3_sys as ffi;

/// A prepared statement, finalized when dropped.
pub(crate) struct Prepared {
    db: NonNull<ffi::sqlite3>,
    stmt: NonNull<ffi::sqlite3_stmt>,
}

fn error_of(db: NonNull<ffi::sqlite3>) -> String {
    // SAFETY: `db` is an open connection; sqlite3_errmsg returns a NUL-terminated string
    // owned by SQLite, copied out before any other call on the connection.
    unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) }
        .to_string_lossy()
        .into_owned()
}

impl Prepared {
    /// Prepares `sql` on `db`.
    ///
    /// # Safety
    /// `db` must be an open connection that nothing else uses until the returned statement
    /// is dropped (sqlx's `LockedSqliteHandle` held for that long guarantees it).
    pub(crate) unsafe fn new(db: NonNull<ffi::sqlite3>, sql: &str) -> Result<Prepared, String> {
        let sql = CString::new(sql).map_err(|e| e.to_string())?;
        let mut stmt = null_mut();
        // SAFETY: valid connection (caller), NUL-terminated SQL, out-pointer to a local.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(db.as_ptr(), sql.as_ptr(), -1, &mut stmt, null_mut())
        };
        match NonNull::new(stmt) {
            Some(stmt) if rc == ffi::SQLITE_OK => Ok(Prepared { db, stmt }),
            _ => Err(error_of(db)),
        }
    }

    /// Binds text (or NULL) to the 1-based parameter `i` without copying it: SQLite reads
    /// the bytes where they are when the statement runs (a copy, SQLITE_TRANSIENT, would cost
    /// a `malloc`, a `memcpy` and a `free` per value of an import).
    ///
    /// # Safety
    /// `value`'s bytes must stay where they are, unchanged, until the parameter is bound
    /// again or the statement is dropped; the statement must not run again before then with
    /// this binding.
    pub(crate) unsafe fn text_in_place(
        &mut self,
        i: c_int,
        value: Option<&str>,
    ) -> Result<(), String> {
        // SAFETY: live statement; the caller keeps the bytes alive and unchanged for as long
        // as SQLite may read them (SQLITE_STATIC).
        let rc = unsafe {
            match value {
                None => ffi::sqlite3_bind_null(self.stmt.as_ptr(), i),
                Some(v) => ffi::sqlite3_bind_text(
                    self.stmt.as_ptr(),
                    i,
                    v.as_ptr().cast(),
                    c_int::try_from(v.len()).map_err(|e| e.to_string())?,
                    ffi::SQLITE_STATIC(),
                ),
            }
        };
        self.check(rc)
    }

    pub(crate) fn int(&mut self, i: c_int, value: i64) -> Result<(), String> {
        // SAFETY: live statement.
        let rc = unsafe { ffi::sqlite3_bind_int64(self.stmt.as_ptr(), i, value) };
        self.check(rc)
    }

    /// Runs the bound statement to completion and resets it for the next row; returns the
    /// number of rows it changed (0 for an INSERT skipped by `ON CONFLICT DO NOTHING`).
    pub(crate) fn run(&mut self) -> Result<u64, String> {
        // SAFETY: live statement on a live connection, used by this thread only.
        let rc = unsafe { ffi::sqlite3_step(self.stmt.as_ptr()) };
        let outcome = if rc == ffi::SQLITE_DONE {
            // SAFETY: live connection.
            Ok(u64::try_from(unsafe { ffi::sqlite3_changes64(self.db.as_ptr()) }).unwrap_or(0))
        } else {
            Err(error_of(self.db))
        };
        // SAFETY: live statement; reset keeps the bindings, which the next row overwrites.
        unsafe { ffi::sqlite3_reset(self.stmt.as_ptr()) };
        outcome
    }

    fn check(&self, rc: c_int) -> Result<(), String> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(error_of(self.db))
        }
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared on `db` and is finalized exactly once.
        unsafe { ffi::sqlite3_finalize(self.stmt.as_ptr()) };
    }
}
