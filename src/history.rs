//! `traza import batches` and `traza export batches`: historical records as CSV files.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use traza_domain::codes::{DonorCode, LabCode, PatientCode, ProductCode};
use traza_domain::history::TextEncoding;
use traza_domain::vocab::BatchStatus;
use traza_store::{BatchFilter, ImportReport, ImportRequest, Store};

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import historical batch records from a CSV file: all or nothing.
    Batches {
        /// The CSV file (UTF-8 or Windows-1252; `,`, `;` or tab).
        file: PathBuf,
        /// The user on whose behalf the file is imported (their role and laboratories apply).
        #[arg(long)]
        user: String,
        /// Check and report without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// Force the encoding instead of detecting it: utf-8 or windows-1252.
        #[arg(long)]
        encoding: Option<TextEncoding>,
        /// Write every listed error as CSV (line, column, code, message) to this file.
        #[arg(long)]
        errors_csv: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum ExportCommand {
    /// Export batches in the import format (UTF-8, `,`, ISO dates, decimal point).
    Batches(ExportArgs),
}

#[derive(Args)]
pub struct ExportArgs {
    /// The user on whose behalf the batches are read (their laboratories apply).
    #[arg(long)]
    user: String,
    /// Write here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long)]
    lab: Option<String>,
    #[arg(long)]
    product: Option<String>,
    #[arg(long)]
    status: Option<String>,
    #[arg(long)]
    donor: Option<String>,
    #[arg(long)]
    patient: Option<String>,
    /// Manufacturing start on or after (YYYY-MM-DD).
    #[arg(long)]
    from: Option<chrono::NaiveDate>,
    /// Manufacturing start on or before (YYYY-MM-DD).
    #[arg(long)]
    to: Option<chrono::NaiveDate>,
}

pub async fn import(store: &Store, command: ImportCommand) -> Result<ExitCode> {
    let ImportCommand::Batches {
        file,
        user,
        dry_run,
        encoding,
        errors_csv,
    } = command;
    let actor = store
        .actor(&user)
        .await
        .with_context(|| format!("--user {user}: no such active user"))?;
    let size = std::fs::metadata(&file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(size);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    let progress = bar.clone().map(|b| {
        let p: traza_store::Progress = Arc::new(move |bytes| b.set_position(bytes));
        p
    });
    let file_name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let started = std::time::Instant::now();
    let report = store
        .import_batches(
            &actor,
            ImportRequest {
                path: file.clone(),
                file_name,
                dry_run,
                encoding,
            },
            progress,
        )
        .await?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(path) = errors_csv {
        write_errors(&path, &file, &report)?;
    }
    print_summary(&report, started.elapsed());
    Ok(if report.accepted() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Writes `--errors-csv` (see [`traza_store::write_refused_rows`]).
fn write_errors(path: &PathBuf, source: &std::path::Path, report: &ImportReport) -> Result<()> {
    let out =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    traza_store::write_refused_rows(out, source, report)
        .with_context(|| format!("cannot write {}", path.display()))
}

fn print_summary(r: &ImportReport, took: std::time::Duration) {
    let mut out = std::io::stdout().lock();
    let verdict = match (r.accepted(), r.dry_run) {
        (true, true) => "dry run: the file would be accepted; nothing was written",
        (true, false) => "imported",
        (false, _) => "REFUSED: nothing was written",
    };
    let _ = writeln!(out, "{}: {verdict}", r.file_name);
    let _ = writeln!(
        out,
        "  rows {}, created {}, unchanged {}, warnings {}, errors {} ({:.1} s, SHA-256 {}, {})",
        r.rows,
        r.created,
        r.unchanged,
        r.warnings_total,
        r.errors_total,
        took.as_secs_f64(),
        r.sha256,
        r.encoding
    );
    if let Some(id) = r.import_id {
        let _ = writeln!(out, "  import {id}");
    }
    for e in r.errors.iter().take(20) {
        let _ = writeln!(out, "  error   {e} [{}]", e.code.as_str());
    }
    if r.errors_total > 20 {
        let _ = writeln!(
            out,
            "  … and {} more errors (see --errors-csv)",
            r.errors_total - 20
        );
    }
    for w in r.warnings.iter().take(5) {
        let _ = writeln!(
            out,
            "  warning line {}: {} [{}]",
            w.line,
            w.message,
            w.code.as_str()
        );
    }
    if r.warnings_total > 5 {
        let _ = writeln!(out, "  … and {} more warnings", r.warnings_total - 5);
    }
}

pub async fn export(store: &Store, command: ExportCommand) -> Result<ExitCode> {
    let ExportCommand::Batches(a) = command;
    let actor = store
        .actor(&a.user)
        .await
        .with_context(|| format!("--user {}: no such active user", a.user))?;
    let filter = BatchFilter {
        lab: a
            .lab
            .as_deref()
            .map(LabCode::parse)
            .transpose()
            .context("--lab")?,
        product: a
            .product
            .as_deref()
            .map(ProductCode::parse)
            .transpose()
            .context("--product")?,
        status: a
            .status
            .as_deref()
            .map(str::parse::<BatchStatus>)
            .transpose()
            .context("--status")?,
        donor: a
            .donor
            .as_deref()
            .map(DonorCode::parse)
            .transpose()
            .context("--donor")?,
        patient: a
            .patient
            .as_deref()
            .map(PatientCode::parse)
            .transpose()
            .context("--patient")?,
        from: a.from,
        to: a.to,
        cursor: None,
        failed_qc: false,
        newer_than: None,
        limit: 0,
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let writer = tokio::task::spawn_blocking(move || -> Result<()> {
        let mut out: Box<dyn Write> = match &a.out {
            Some(path) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("cannot write {}", path.display()))?,
            )),
            None => Box::new(std::io::stdout().lock()),
        };
        while let Some(piece) = rx.blocking_recv() {
            out.write_all(&piece)?;
        }
        out.flush()?;
        Ok(())
    });
    let written = store.export_batches(&actor, &filter, tx).await?;
    writer.await.context("the export writer stopped")??;
    eprintln!("exported {written} batches");
    Ok(ExitCode::SUCCESS)
}
