//! `gen-history`: writes a historical batch file (SPEC §4) of realistic rows that the importer
//! accepts, for the import benchmark (`bench/import.sh`) and for trying imports by hand.
//!
//! ```text
//! gen-history --rows 1000000 --out /tmp/history-1m.csv [--seed 42] [--delimiter ,|;|tab] [--spanish]
//!             [--shape spread|compact]
//! ```

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::Parser;
use traza_bench::history::{Options, Shape, write_history};
use traza_bench::network::Network;
use traza_domain::vocab::BatchStatus;

/// Write a historical batch CSV file of valid, realistic rows in random order.
#[derive(Parser)]
#[command(name = "gen-history")]
struct Args {
    /// Number of data rows.
    #[arg(long)]
    rows: u64,
    /// Where to write the file.
    #[arg(long)]
    out: PathBuf,
    /// The same seed gives the same file.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// `,`, `;` or `tab`; `,` by default, `;` with --spanish.
    #[arg(long, value_parser = delimiter)]
    delimiter: Option<u8>,
    /// Write as Spanish Excel does: decimal commas, dd/mm/yyyy dates, Spanish words
    /// (autólogo, liberado, …), a UTF-8 byte order mark and CRLF line ends.
    #[arg(long)]
    spanish: bool,
    /// The laboratory network the rows are made for; the built-in fixtures/network.json
    /// (the one `traza fixtures load` loads) when omitted.
    #[arg(long)]
    network: Option<PathBuf>,
    /// No batch starts after this day, and open-ended assignments run until it.
    #[arg(long, default_value = "2026-12-01")]
    today: NaiveDate,
    /// `spread`: every laboratory's rows shuffled together, long generated batch numbers,
    /// DINs. `compact`: one laboratory's rows in its own order (batch numbers ascending, a
    /// donor's batches together), short codes (`L19004217`, `D1900042`), few notes.
    #[arg(long, default_value = "spread", value_parser = Shape::parse)]
    shape: Shape,
}

fn delimiter(s: &str) -> Result<u8, String> {
    match s {
        "," => Ok(b','),
        ";" => Ok(b';'),
        "tab" | "\t" | "\\t" => Ok(b'\t'),
        other => Err(format!("{other:?}: the importer reads ',', ';' or tab")),
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let network = match &args.network {
        Some(path) => {
            let json = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Network::from_json(&json)
        }
        None => Network::built_in(),
    }
    .context("the network file is not valid")?;
    let options = Options {
        rows: args.rows,
        seed: args.seed,
        delimiter: args
            .delimiter
            .unwrap_or(if args.spanish { b';' } else { b',' }),
        spanish: args.spanish,
        today: args.today,
        shape: args.shape,
    };
    if args.out.is_dir() {
        bail!("{} is a folder", args.out.display());
    }

    // Written beside the target and renamed when complete, so an interrupted run never
    // leaves a file that looks finished (the benchmark reuses files that exist).
    let mut partial = args.out.clone().into_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let started = Instant::now();
    let file =
        File::create(&partial).with_context(|| format!("cannot write {}", partial.display()))?;
    let out = BufWriter::with_capacity(1 << 20, file);
    let summary = write_history(&network, &options, out)?;
    std::fs::rename(&partial, &args.out).with_context(|| {
        format!(
            "cannot rename {} to {}",
            partial.display(),
            args.out.display()
        )
    })?;

    let statuses: Vec<String> = BatchStatus::ALL
        .iter()
        .zip(summary.by_status)
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    eprintln!(
        "wrote {} rows to {} in {:.1} s: {} donors; {}; {} rows start before their assignment \
         (the importer warns about them)",
        summary.rows,
        args.out.display(),
        started.elapsed().as_secs_f64(),
        summary.donors,
        statuses.join(", "),
        summary.without_assignment,
    );
    Ok(())
}
