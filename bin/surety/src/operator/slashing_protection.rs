//! `surety operator slashing-protection export|import`: move an operator's signing history
//! between machines in the interchange format of `docs/slashing-protection.md`.

use std::path::{Path, PathBuf};

use eyre::WrapErr;
use surety_slashing_protection::{Interchange, SlashingDatabase, database_path};
use tracing::info;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Write the whole signing history of the data directory to FILE.
    Export(Args),
    /// Merge FILE into the data directory's history: atomic and idempotent; refused on any
    /// conflict, for another domain, or while a node holds the database.
    Import(Args),
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The operator's data directory.
    #[arg(long, value_name = "DIR")]
    datadir: PathBuf,
    /// The interchange JSON file.
    #[arg(long, value_name = "FILE")]
    file: PathBuf,
}

pub(crate) fn run(command: Command) -> eyre::Result<()> {
    match command {
        Command::Export(args) => export(&args),
        Command::Import(args) => import(&args),
    }
}

fn export(args: &Args) -> eyre::Result<()> {
    let db_path = database_path(&args.datadir);
    let db = SlashingDatabase::open(&db_path)
        .wrap_err_with(|| format!("opening {}", db_path.display()))?;
    let interchange = db.export()?;
    write_atomically(&args.file, interchange.to_json_pretty()?.as_bytes())?;
    let records: usize = interchange
        .data
        .iter()
        .flat_map(|k| &k.rollups)
        .map(|r| r.signed_statements.len())
        .sum();
    info!(file = %args.file.display(), keys = interchange.data.len(), records, "exported");
    Ok(())
}

fn import(args: &Args) -> eyre::Result<()> {
    let json = std::fs::read_to_string(&args.file)
        .wrap_err_with(|| format!("reading {}", args.file.display()))?;
    let interchange = Interchange::from_json(&json)
        .wrap_err_with(|| format!("parsing {}", args.file.display()))?;
    std::fs::create_dir_all(&args.datadir)
        .wrap_err_with(|| format!("creating {}", args.datadir.display()))?;
    let db_path = database_path(&args.datadir);
    let db = SlashingDatabase::create_or_open(&db_path, &interchange.domain())
        .wrap_err_with(|| format!("opening {}", db_path.display()))?;
    let summary = db
        .import(&interchange)
        .wrap_err("import refused; nothing was changed")?;
    info!(
        new_records = summary.new_records,
        known_records = summary.known_records,
        raised_watermarks = summary.raised_watermarks,
        "imported"
    );
    Ok(())
}

/// Writes to a sibling temporary file, syncs it, then renames: a crash leaves the old file or
/// the complete new one.
fn write_atomically(path: &Path, bytes: &[u8]) -> eyre::Result<()> {
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        std::io::Write::write_all(&mut file, bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().wrap_err_with(|| format!("writing {}", path.display()))
}
