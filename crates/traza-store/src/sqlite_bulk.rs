//! Statements stepped through SQLite's C API: row-at-a-time inserts on the import's own
//! connection and inside its transaction (the historical import's hot path), and the
//! export's read of every row (`step_row`, `text`).
//!
//! Why not sqlx for the export: sqlx copies every value of every row into an owned row and
//! sends it from its worker thread over a channel, several times what SQLite spends finding
//! the row; reading each column's text where SQLite keeps it is how the `sqlite3` shell
//! prints a table.
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

/// Reading: binding by copy, stepping row by row, and each column's text in place.
impl Prepared {
    /// Binds a copy of `value` to the 1-based parameter `i`.
    pub(crate) fn bind_text(&mut self, i: c_int, value: &str) -> Result<(), String> {
        let len = c_int::try_from(value.len()).map_err(|e| e.to_string())?;
        // SAFETY: live statement; SQLITE_TRANSIENT makes SQLite copy the bytes at once.
        let rc = unsafe {
            ffi::sqlite3_bind_text(
                self.stmt.as_ptr(),
                i,
                value.as_ptr().cast(),
                len,
                ffi::SQLITE_TRANSIENT(),
            )
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(error_of(self.db))
        }
    }

    /// Moves to the next row: `true` when there is one, `false` at the end.
    pub(crate) fn step_row(&mut self) -> Result<bool, String> {
        // SAFETY: live statement on a live connection, used by this thread only.
        match unsafe { ffi::sqlite3_step(self.stmt.as_ptr()) } {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            _ => Err(error_of(self.db)),
        }
    }

    /// The current row's column `i` (0-based) as text, `None` for NULL. The text stays valid
    /// until the next `step` (the borrow of `self` says so). A number is shown as SQLite
    /// shows it; text that is not UTF-8 (written outside Traza) is an error.
    pub(crate) fn text(&self, i: c_int) -> Result<Option<&str>, String> {
        // SAFETY: live statement positioned on a row (the caller stepped to one); the pointer
        // from sqlite3_column_text is valid for sqlite3_column_bytes bytes until the next
        // step, reset or finalize, none of which can happen while `self` is borrowed.
        unsafe {
            if ffi::sqlite3_column_type(self.stmt.as_ptr(), i) == ffi::SQLITE_NULL {
                return Ok(None);
            }
            let p = ffi::sqlite3_column_text(self.stmt.as_ptr(), i);
            let n = usize::try_from(ffi::sqlite3_column_bytes(self.stmt.as_ptr(), i))
                .map_err(|e| e.to_string())?;
            if p.is_null() {
                return Ok(Some(""));
            }
            let bytes = std::slice::from_raw_parts(p, n);
            std::str::from_utf8(bytes)
                .map(Some)
                .map_err(|e| format!("column {i} is not UTF-8 text: {e}"))
        }
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared on `db` and is finalized exactly once.
        unsafe { ffi::sqlite3_finalize(self.stmt.as_ptr()) };
    }
}
