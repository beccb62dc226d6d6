//! Helpers shared by the test crates that run the `traza` binary.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use traza_testkit::audit_key_path as audit_key_file;

/// Runs `traza ARGS` on database `db`, with `stdin` written to it if given.
pub fn traza(db: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_traza"))
        .args(args)
        .env("TRAZA_DATABASE_URL", db)
        .env("TRAZA_AUDIT_KEY_FILE", audit_key_file(db))
        .env("TRAZA_LOG", "warn")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the traza binary starts");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input.as_bytes())
            .expect("stdin accepts the password");
    }
    child.wait_with_output().expect("traza finishes")
}

/// Starts `traza serve` on a free port; returns the child and its address.
pub fn serve(db: &str) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_traza"))
        .arg("serve")
        .env("TRAZA_DATABASE_URL", db)
        .env("TRAZA_AUDIT_KEY_FILE", audit_key_file(db))
        .env("TRAZA_BIND", "127.0.0.1:0")
        .env("TRAZA_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("traza serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server logs its address")
            .expect("a log line");
        if let Some(rest) = line.split("address=").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}
