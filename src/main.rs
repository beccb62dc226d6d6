//! `traza`: the command line of the Traza manufacturing tracker.

mod demo;
mod history;

use std::collections::BTreeSet;
use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use traza_domain::codes::{LabCode, Username};
use traza_domain::vocab::{Role, Source};
use traza_http::{AppState, Server};
use traza_store::{
    AuditKeyStatus, DEFAULT_DATABASE_URL, NetworkFixture, NewUser, Store, VerifyReport,
    default_audit_key_path, system_actor,
};

/// The fixture network shipped with Traza (laboratories of the Andalusian network, products,
/// assignments and demo users).
const FIXTURE_NETWORK: &str = include_str!("../fixtures/network.json");

#[derive(Parser)]
#[command(
    name = "traza",
    version,
    about = "Manufacturing tracker for a network of GMP laboratories making ATMPs"
)]
struct Cli {
    /// Database URL: `sqlite://FILE?mode=rwc` (default) or `postgres://…`.
    #[arg(long, env = "TRAZA_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
    /// The audit trail's key file (secret; mode 0600; keep it off the database server and
    /// back it up apart from the database). Default: beside a SQLite database file
    /// (`traza.db.audit-key`), else `traza-audit.key` in the working folder.
    #[arg(long, env = "TRAZA_AUDIT_KEY_FILE", global = true)]
    audit_key_file: Option<std::path::PathBuf>,
    /// Log filter (tracing's EnvFilter syntax).
    #[arg(long, env = "TRAZA_LOG", default_value = "info", global = true)]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create or update the database schema.
    Migrate,
    /// Serve HTTP (migrations run at start).
    Serve(ServeArgs),
    /// Load the fixture network and demo batches (once), print the demo users, and serve.
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        /// How many demo batches to make on an empty database.
        #[arg(long, default_value_t = 300)]
        batches: usize,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Load a network description (laboratories, products, assignments, users).
    #[command(subcommand)]
    Fixtures(FixturesCommand),
    /// Copy a SQLite database while it is in use, then check the copy's audit trail.
    Backup {
        /// The file to write (must not exist).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Import historical records from CSV files.
    #[command(subcommand)]
    Import(history::ImportCommand),
    /// Export records as CSV.
    #[command(subcommand)]
    Export(history::ExportCommand),
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TRAZA_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// The reverse proxy in front of Traza: only its `X-Forwarded-For` names the client whose
    /// failed logins are counted.
    #[arg(long, env = "TRAZA_TRUSTED_PROXY")]
    trusted_proxy: Option<std::net::IpAddr>,
    /// Consecutive wrong passwords (login or signature) that lock an account.
    #[arg(long, env = "TRAZA_LOCKOUT_FAILURES", default_value_t = 5)]
    lockout_failures: u32,
    /// How long a lock lasts, in minutes.
    #[arg(long, env = "TRAZA_LOCKOUT_MINUTES", default_value_t = 15)]
    lockout_minutes: i64,
    /// Failed logins a minute from one address beyond which it is refused (429).
    #[arg(long, env = "TRAZA_THROTTLE_PER_MINUTE", default_value_t = 20)]
    throttle_per_minute: u32,
}

impl ServeArgs {
    fn lockout(&self) -> traza_domain::auth::LockoutPolicy {
        traza_domain::auth::LockoutPolicy {
            max_failures: self.lockout_failures.max(1),
            lock_for: chrono::Duration::minutes(self.lockout_minutes.max(1)),
            per_address_per_minute: self.throttle_per_minute,
            trusted_proxy: self.trusted_proxy,
        }
    }
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        full_name: String,
        /// admin, coordinator, lab_staff, qa or auditor.
        #[arg(long)]
        role: String,
        /// A laboratory of a lab_staff or qa user (repeat for several).
        #[arg(long = "lab")]
        labs: Vec<String>,
        /// Read the password from standard input (required: never pass it as an argument).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// The admin on whose behalf the user is created. May be omitted only to create the
        /// first admin of an empty installation.
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain: exit 0 when intact, 1 naming the first broken event.
    Verify {
        /// A head printed earlier by `traza audit checkpoint` (ID:HASH), kept outside the
        /// database: proves the newest events were not removed since.
        #[arg(long)]
        checkpoint: Option<traza_domain::audit::Checkpoint>,
    },
    /// Verify the chain and print its head as ID:HASH, to keep somewhere else (a ticket, a
    /// signed e-mail, the backup's label) for `audit verify --checkpoint`.
    Checkpoint,
    /// Start a new key for the chain (and key a trail begun without one). The key file keeps
    /// the older keys, which still verify the events they signed: back it up again after.
    Rekey {
        /// The admin who rekeys.
        #[arg(long)]
        user: String,
    },
}

#[derive(Subcommand)]
enum FixturesCommand {
    /// Load the built-in network (or FILE); what exists already is left alone.
    Load {
        /// A network JSON file; the built-in Andalusian network when omitted.
        file: Option<std::path::PathBuf>,
    },
}

fn init_tracing(filter: &str) {
    // SQL text and bound values (donor and patient codes) never reach the logs: sqlx and
    // sea-orm are held at warn whatever the filter says, unless named explicitly.
    let mut directives = filter.to_owned();
    for quiet in ["sqlx=warn", "sea_orm=warn", "sea_orm_migration=warn"] {
        let target = quiet.split('=').next().unwrap_or_default();
        if !directives.contains(target) {
            directives.push(',');
            directives.push_str(quiet);
        }
    }
    let env = EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(env)
        .with_writer(std::io::stderr)
        .init();
}

async fn open(url: &str, key_file: &Option<std::path::PathBuf>) -> Result<Store> {
    let store = Store::connect(url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    let key_file = key_file
        .clone()
        .unwrap_or_else(|| default_audit_key_path(url));
    match store.open_audit_key(&key_file).await? {
        AuditKeyStatus::Created { path, fingerprint } => eprintln!(
            "made the audit trail's key {fingerprint} in {}: keep it secret, off the database server, and backed up apart from the database",
            path.display()
        ),
        AuditKeyStatus::Loaded {
            path,
            too_open: true,
            ..
        } => tracing::warn!(
            path = %path.display(),
            "the audit key file may be read by other users: chmod 600 it"
        ),
        AuditKeyStatus::Loaded { .. } => {}
        AuditKeyStatus::Unkeyed { path } => tracing::warn!(
            path = %path.display(),
            "this audit trail was begun without a key: an admin should run `traza audit rekey`"
        ),
    }
    Ok(store.with_source(Source::Cli))
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…{}", &url[..s], &url[at..]),
        _ => url.to_owned(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// What a verification that did not come out intact found, in one line.
fn verify_problem(report: &VerifyReport) -> String {
    match report {
        VerifyReport::Intact { events, .. } => format!("audit trail intact: {events} events"),
        VerifyReport::Broken(b) => format!("audit trail BROKEN at event {}: {}", b.id, b.problem),
        VerifyReport::RowMismatch(m) => {
            format!("a GMP row does not match its audit trail: {m}")
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let (url, key_file) = (cli.database_url, cli.audit_key_file);
    match cli.command {
        Command::Migrate => {
            open(&url, &key_file).await?;
            println!("database is up to date");
        }
        Command::Serve(args) => {
            let store = open(&url, &key_file)
                .await?
                .with_source(Source::Api)
                .with_lockout_policy(args.lockout());
            let server = Server::bind(&args.bind, AppState::new(store))
                .await
                .with_context(|| format!("cannot listen on {}", args.bind))?;
            tracing::info!(address = %server.local_addr()?, "Traza is serving");
            server.run(shutdown_signal()).await?;
        }
        Command::Demo { serve, batches } => {
            let store = open(&url, &key_file)
                .await?
                .with_source(Source::Api)
                .with_lockout_policy(serve.lockout());
            eprintln!(
                "preparing the demo network (the first run makes {batches} batches; this takes a moment)…"
            );
            let made = demo::seed(&store, FIXTURE_NETWORK, batches).await?;
            let server = Server::bind(&serve.bind, AppState::new(store))
                .await
                .with_context(|| format!("cannot listen on {}", serve.bind))?;
            let addr = server.local_addr()?;
            println!(
                "Traza demo: {made} new batches; serving on http://{addr}/ (API docs: http://{addr}/api/v1/docs)"
            );
            println!("demo users (username / password / role / laboratories):");
            let fixture = NetworkFixture::from_json(FIXTURE_NETWORK)?;
            for u in &fixture.users {
                let labs: Vec<&str> = u.labs.iter().map(LabCode::as_str).collect();
                println!(
                    "  {:<16} {:<24} {:<12} {}",
                    u.username.as_str(),
                    u.password,
                    u.role.as_str(),
                    labs.join(", ")
                );
            }
            server.run(shutdown_signal()).await?;
        }
        Command::User(UserCommand::Add {
            username,
            full_name,
            role,
            labs,
            password_stdin: _,
            user,
        }) => {
            let store = open(&url, &key_file).await?;
            let actor = match user {
                Some(name) => store
                    .actor(&name)
                    .await
                    .with_context(|| format!("--user {name}: no such active user"))?,
                None if !store.has_active_admin().await? => system_actor(),
                None => bail!(
                    "name the admin who creates this user with --user (only the first admin may be created without one)"
                ),
            };
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("cannot read the password from standard input")?;
            let password = password.trim_end_matches(['\n', '\r']).to_owned();
            let new = NewUser {
                username: Username::parse(&username).context("--username")?,
                full_name,
                role: role.parse::<Role>().context("--role")?,
                labs: labs
                    .iter()
                    .map(|l| LabCode::parse(l))
                    .collect::<Result<BTreeSet<_>, _>>()
                    .context("--lab")?,
                password,
            };
            let created = store.create_user(&actor, new).await?;
            println!("user {} ({}) created", created.username, created.role);
        }
        Command::Audit(AuditCommand::Verify { checkpoint }) => {
            let store = open(&url, &key_file).await?;
            match store
                .verify_audit_chain_against(checkpoint.as_ref())
                .await?
            {
                VerifyReport::Intact { events, head } => {
                    println!("audit trail intact: {events} events, head {head}");
                    if let Some(c) = checkpoint {
                        println!("checkpoint {c} is in the trail");
                    }
                }
                broken => {
                    eprintln!("{}", verify_problem(&broken));
                    return Ok(ExitCode::from(1));
                }
            }
        }
        Command::Audit(AuditCommand::Checkpoint) => {
            let store = open(&url, &key_file).await?;
            match store.verify_audit_chain().await? {
                VerifyReport::Intact { events, head } => {
                    println!(
                        "{}",
                        traza_domain::audit::Checkpoint {
                            id: events,
                            hash: head
                        }
                    );
                }
                broken => {
                    eprintln!("{}", verify_problem(&broken));
                    return Ok(ExitCode::from(1));
                }
            }
        }
        Command::Audit(AuditCommand::Rekey { user }) => {
            let store = open(&url, &key_file).await?;
            let actor = store
                .actor(&user)
                .await
                .with_context(|| format!("--user {user}: no such active user"))?;
            let fingerprint = store.rekey_audit(&actor).await?;
            println!(
                "the audit trail is now signed with key {fingerprint}; back up the key file again (it keeps the older keys)"
            );
        }
        Command::Backup { out } => {
            let store = open(&url, &key_file).await?;
            store.backup_sqlite(&out).await?;
            let copy = Store::connect(&format!("sqlite://{}", out.display()))
                .await
                .context("cannot open the backup")?
                .with_audit_keys_of(&store);
            match copy.verify_audit_chain().await? {
                VerifyReport::Intact { events, head } => println!(
                    "backup written to {}; its audit trail is intact: {events} events, head {head}",
                    out.display()
                ),
                broken => {
                    eprintln!("the backup: {}", verify_problem(&broken));
                    return Ok(ExitCode::from(1));
                }
            }
        }
        Command::Import(command) => {
            let store = open(&url, &key_file).await?;
            return history::import(&store, command).await;
        }
        Command::Export(command) => {
            let store = open(&url, &key_file).await?;
            return history::export(&store, command).await;
        }
        Command::Fixtures(FixturesCommand::Load { file }) => {
            let store = open(&url, &key_file).await?;
            let json = match &file {
                Some(path) => std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
                None => FIXTURE_NETWORK.to_owned(),
            };
            let fixture =
                NetworkFixture::from_json(&json).context("the network file is not valid")?;
            let r = store.load_network(&system_actor(), &fixture).await?;
            println!(
                "loaded {} laboratories, {} products, {} assignments, {} users (the rest existed)",
                r.labs, r.products, r.assignments, r.users
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// mimalloc, not glibc's malloc. A warm batch read spent 11 % of its samples in glibc's
/// `malloc`, `free` and `malloc_consolidate`. In back-to-back runs (`bench/RESULTS.md`,
/// 2026-12-03) reads ran at 0.72–0.85 of the yardstick with this build against 0.61–0.73 on
/// glibc, and the compact import in 11 s instead of 12.8 s. mimalloc also gives large
/// blocks, such as argon2's 19 MiB of working memory per password check, back to the system
/// by itself (glibc needed its mmap threshold pinned for that). Built without transparent
/// huge pages (`no_thp`): with them reads were cheaper still (0.88–0.91), but the importer's
/// peak RSS grew by whole 2 MiB pages, to 138–144 MiB (the target is 128), and the options
/// that would have bounded it must be set before the first allocation, which is before
/// `main`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay`: its place in mimalloc 3's `mi_option_t` (include/mimalloc.h), for
/// which the Rust bindings name no constant. The test below checks that it still is.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Memory freed is given back to the system after 10 ms (mimalloc 2's delay), not after a
/// second (mimalloc 3's): a 100,000-row import otherwise peaked at 128 MiB instead of 106.
fn tune_allocator() {
    // SAFETY: sets one of mimalloc's options; called before any other thread exists.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10) };
}

fn main() -> ExitCode {
    tune_allocator();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(run_cli())
}

async fn run_cli() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.log);
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    /// The option set by `tune_allocator` is the purge delay: mimalloc 3's default for it is
    /// 1,000 ms, and no other option of mimalloc 3 defaults to that.
    #[test]
    fn the_tuned_allocator_option_is_the_purge_delay() {
        // SAFETY: reads one of mimalloc's options.
        let value = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(value, 1000);
    }
}
