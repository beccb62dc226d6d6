//! `traza import batches` and `traza export batches`: historical records as CSV files.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use traza_domain::codes::{DonorCode, LabCode, PatientCode, ProductCode};
use traza_domain::history::{HistoryReader, TextEncoding};
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

/// The refused rows as the user wrote them (the file's own columns, decoded to UTF-8, in its
/// delimiter) followed by `line`, `error_code` and `error_message`: open it in Excel, fix the
/// rows, import again. One row per refused record; its errors joined. UTF-8 with a BOM so
/// that Excel reads the accents right. Problems of the header (line 1) come first, with
/// empty original columns.
fn write_errors(path: &PathBuf, source: &std::path::Path, report: &ImportReport) -> Result<()> {
    use std::collections::BTreeMap;
    let mut by_line: BTreeMap<u64, Vec<&traza_domain::history::RowError>> = BTreeMap::new();
    for e in &report.errors {
        by_line.entry(e.line).or_default().push(e);
    }
    let encoding: TextEncoding = report.encoding.parse().unwrap_or(TextEncoding::Utf8);
    let file =
        std::fs::File::open(source).with_context(|| format!("cannot read {}", source.display()))?;
    let raw = HistoryReader::raw(std::io::BufReader::new(file), encoding);
    let (mut reader, header, delimiter) = match raw {
        Ok((reader, header)) => {
            let d = reader.delimiter();
            (Some(reader), header, d)
        }
        Err(_) => (None, Vec::new(), b','),
    };
    let mut out =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    out.write_all(b"\xEF\xBB\xBF")?;
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_writer(out);
    let mut head = header.clone();
    head.extend(["line", "error_code", "error_message"].map(str::to_owned));
    w.write_record(&head)?;
    let width = header.len();
    refused_row(&mut w, &mut by_line, width, 1, Vec::new())?;
    if let Some(reader) = reader.as_mut() {
        while !by_line.is_empty() {
            match reader.next_raw() {
                Some(Ok((line, fields))) => refused_row(&mut w, &mut by_line, width, line, fields)?,
                Some(Err(e)) => refused_row(&mut w, &mut by_line, width, e.line, Vec::new())?,
                None => break,
            }
        }
    }
    // Whatever the second reading did not reach (it cannot, after a broken quote).
    let rest: Vec<u64> = by_line.keys().copied().collect();
    for line in rest {
        refused_row(&mut w, &mut by_line, width, line, Vec::new())?;
    }
    w.flush()?;
    Ok(())
}

/// Writes the record of `line` with its errors, if it has any.
fn refused_row(
    w: &mut csv::Writer<std::fs::File>,
    by_line: &mut std::collections::BTreeMap<u64, Vec<&traza_domain::history::RowError>>,
    width: usize,
    line: u64,
    mut fields: Vec<String>,
) -> Result<()> {
    let Some(errors) = by_line.remove(&line) else {
        return Ok(());
    };
    fields.resize(width, String::new());
    fields.push(line.to_string());
    fields.push(
        errors
            .iter()
            .map(|e| e.code.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    );
    fields.push(
        errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("; "),
    );
    w.write_record(&fields)?;
    Ok(())
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
