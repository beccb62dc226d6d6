//! A read-only statement stepped through SQLite's C API, for the export's hot loop.
//!
//! Why not sqlx here: sqlx copies every value of every row into an owned row and sends it
//! from its worker thread over a channel, a cost per row several times what SQLite spends
//! finding it. Stepping the statement in place and reading each column's text where SQLite
//! keeps it is how the `sqlite3` shell prints a table. The connection is borrowed from sqlx
//! with `lock_handle`, so sqlx's worker waits meanwhile.

use std::ffi::{CStr, CString, c_int};
use std::ptr::{NonNull, null_mut};

use libsqlite3_sys as ffi;

/// A prepared statement, finalized when dropped.
pub(crate) struct Cursor {
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

impl Cursor {
    /// Prepares `sql` on `db`.
    ///
    /// # Safety
    /// `db` must be an open connection that nothing else uses until the returned cursor is
    /// dropped (sqlx's `LockedSqliteHandle` held for that long guarantees it), on this
    /// thread only.
    pub(crate) unsafe fn new(db: NonNull<ffi::sqlite3>, sql: &str) -> Result<Cursor, String> {
        let sql = CString::new(sql).map_err(|e| e.to_string())?;
        let mut stmt = null_mut();
        // SAFETY: valid connection (caller), NUL-terminated SQL, out-pointer to a local.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(db.as_ptr(), sql.as_ptr(), -1, &mut stmt, null_mut())
        };
        match NonNull::new(stmt) {
            Some(stmt) if rc == ffi::SQLITE_OK => Ok(Cursor { db, stmt }),
            _ => Err(error_of(db)),
        }
    }

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
    pub(crate) fn step(&mut self) -> Result<bool, String> {
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

impl Drop for Cursor {
    fn drop(&mut self) {
        // SAFETY: the statement is live and dropped once.
        unsafe { ffi::sqlite3_finalize(self.stmt.as_ptr()) };
    }
}
