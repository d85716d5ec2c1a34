//! The `adal` command line.

use std::io::BufRead;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{Config, LogFormat, Source};
use crate::startup::{self, Application};
use crate::store::{self, PoolSettings};

#[derive(Parser)]
#[command(name = "adal", version, about = "Registry of anti-corruption outreach events")]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations, then serve the API (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Create an admin account; reads its password from the first line of standard input.
    CreateAdmin {
        #[arg(long)]
        username: String,
        /// The department's code; without it, `administration` (created when none exists).
        #[arg(long)]
        department_code: Option<String>,
    },
    /// Load the demonstration registry (the 2024 story) into a registry with no events; prints each
    /// demo account once as `username<TAB>role<TAB>password`.
    SeedDemo,
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; exits non-zero when it is broken.
    Verify,
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour codes only for a person at a terminal; a file, a pipe or a journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn load_config() -> anyhow::Result<Config> {
    let source = Source::from_env()?;
    Ok(Config::load(&source)?)
}

fn open_store(config: &Config) -> anyhow::Result<store::Pool> {
    let settings =
        PoolSettings { max_size: 2, checkout_timeout: config.db_timeout, sqlite_busy_timeout: config.db_timeout };
    store::build_pool(&config.database, &settings)
        .with_context(|| format!("DATABASE_URL: cannot open {}", config.database.redacted()))
}

pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", crate::openapi::to_pretty_json(&startup::openapi()));
        return Ok(());
    }
    let config = load_config()?;
    init_logging(&config);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(async move {
            let app = Application::build(config).await?;
            app.run_until_stopped().await?;
            tracing::info!("stopped");
            Ok(())
        }),
        Command::Migrate => {
            let pool = open_store(&config)?;
            let applied = store::run_migrations(&mut *pool.get()?)?;
            println!("applied {} migration(s)", applied.len());
            Ok(())
        }
        Command::CreateAdmin { username, department_code } => {
            let pool = open_store(&config)?;
            let mut conn = pool.get()?;
            store::run_migrations(&mut conn)?;
            let stdin = std::io::stdin();
            let mut input = stdin.lock();
            let account = crate::bootstrap::create_admin_from_input(
                &mut conn,
                &username,
                department_code.as_deref(),
                &mut input as &mut dyn BufRead,
            )?;
            println!("created admin account {} ({})", account.username, account.id);
            Ok(())
        }
        Command::SeedDemo => {
            let pool = open_store(&config)?;
            let mut conn = pool.get()?;
            store::run_migrations(&mut conn)?;
            let keys = crate::auth::keys::resolve(&config)?;
            for account in crate::seed::seed_demo(&mut conn, config.timezone, &keys.iin_key)? {
                println!("{}\t{}\t{}", account.username, account.role.as_str(), account.password);
            }
            Ok(())
        }
        Command::Audit { command: AuditCommand::Verify } => {
            let pool = open_store(&config)?;
            let mut conn = pool.get()?;
            let report = crate::audit::store::verify(&mut conn)?;
            println!("{}", serde_json::to_string(&report)?);
            if report.ok {
                Ok(())
            } else {
                anyhow::bail!("the audit chain is broken at entry {}", report.first_bad_seq.unwrap_or(0))
            }
        }
        Command::Openapi => unreachable!("handled above"),
    }
}
