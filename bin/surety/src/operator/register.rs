//! `surety operator register --config FILE`: make the configured account a Surety operator —
//! EigenLayer operator, BLS key with its proof of possession, collateral, allocation, operator
//! set — skipping every step already done, so running it again is safe.

use std::path::PathBuf;

use alloy::{
    primitives::U256,
    providers::{ProviderBuilder, WalletProvider},
};
use eyre::WrapErr;
use surety_contracts::{
    RegisterOptions, RegistrationContracts, StepReport, eigenlayer::FULL_MAGNITUDE,
    register_operator,
};
use surety_operator::config::OperatorConfig;

use super::run::unlock;
use surety_primitives::config::ConfigFile;

#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Steps, in order (each is checked on chain first and skipped if already done):
  1. EigenLayer operator: DelegationManager.registerAsOperator (self-delegated)
  2. BLS key: OperatorRegistry.registerKey with a proof of possession bound to the
     account, the chain and the registry
  3. collateral: CompensationPool.depositCollateral, topped up to --collateral
  4. allocation: AllocationManager.modifyAllocations for every strategy of Surety's
     operator set the operator has restaked shares in
  5. operator set: AllocationManager.registerForOperatorSets (Surety's registrar locks
     the collateral and adds the key)

The account (from `[keys] ecdsa_key_file`) needs ether for gas and collateral, and restaked
shares in Surety's strategies: deposit through EigenLayer's StrategyManager or have stakers
delegate. The allocation counts as stake once `--allocation-delay` blocks have passed and a
keeper has called OperatorRegistry.update.")]
pub(crate) struct Args {
    /// The node's TOML configuration: `[l1]` (rpc, deployment or operator_registry) and
    /// `[keys]` (bls_keystore, bls_password_file, ecdsa_key_file) are used.
    #[arg(long, value_name = "FILE", env = "SURETY_OPERATOR_CONFIG")]
    config: PathBuf,
    /// Blocks between an allocation and the moment it becomes slashable (and counts as
    /// stake); only set when the account is not an EigenLayer operator yet.
    #[arg(long, value_name = "BLOCKS", default_value_t = 0)]
    allocation_delay: u32,
    /// Share of each strategy's allocatable magnitude to allocate to Surety: a fraction
    /// (`0.5`) or a percentage (`50%`). Existing allocations to Surety are left as they are.
    #[arg(long, value_name = "FRACTION", default_value = "1", value_parser = parse_fraction)]
    magnitude: u64,
    /// Collateral (wei) to hold in the compensation pool; default the registrar's
    /// `minCollateral`. Collateral already held counts towards it.
    #[arg(long, value_name = "WEI", value_parser = parse_wei)]
    collateral: Option<U256>,
    /// The operator's metadata URI in EigenLayer (only set when registering with EigenLayer).
    #[arg(long, value_name = "URI", default_value = "")]
    metadata_uri: String,
    /// Print one JSON object summarising the steps instead of one line per step.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args) -> eyre::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(register(args))
}

async fn register(args: Args) -> eyre::Result<()> {
    let config = OperatorConfig::load(&args.config)?;
    let signer = super::ecdsa_signer(&config)?;
    let key = unlock(&config)?;
    let operator_registry = match (&config.l1.deployment, config.l1.operator_registry) {
        (_, Some(registry)) => registry,
        (Some(path), None) => super::read_deployment(path)?.surety.operator_registry,
        (None, None) => unreachable!("validated at load"),
    };
    let url = config
        .l1
        .rpc
        .parse()
        .wrap_err_with(|| format!("l1.rpc {:?} is not a URL", config.l1.rpc))?;
    let provider = ProviderBuilder::new().wallet(signer).connect_http(url);
    let operator = provider.default_signer_address();
    let contracts = RegistrationContracts::discover(&provider, operator_registry)
        .await
        .wrap_err_with(|| {
            format!(
                "reading Surety's contracts from the OperatorRegistry at {operator_registry} \
                 on {}",
                config.l1.rpc
            )
        })?;
    let options = RegisterOptions {
        allocation_delay: args.allocation_delay,
        metadata_uri: args.metadata_uri,
        magnitude_wad: args.magnitude,
        collateral: args.collateral,
    };
    if !args.json {
        println!(
            "registering {operator} with key {} on {}",
            key.public_key().key_hash(),
            config.l1.rpc
        );
    }
    let json = args.json;
    let steps = register_operator(&provider, &contracts, &key, &options, |step| {
        if !json {
            print_step(step);
        }
    })
    .await
    .wrap_err_with(|| format!("registering {operator} with Surety"))?;
    let changed = steps.iter().any(StepReport::done_now);
    if json {
        let summary = serde_json::json!({
            "operator": operator,
            "key_hash": key.public_key().key_hash(),
            "operator_registry": contracts.operator_registry,
            "changed": changed,
            "steps": steps.iter().map(|s| serde_json::json!({
                "step": s.step,
                "status": if s.done_now() { "done" } else { "already_done" },
                "tx": s.tx,
                "detail": s.detail,
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else if changed {
        println!(
            "{operator} is a Surety operator; its allocation counts as stake once the allocation \
             delay has passed and a keeper has called OperatorRegistry.update"
        );
    } else {
        println!("everything is in place: {operator} is a Surety operator");
    }
    Ok(())
}

fn print_step(step: &StepReport) {
    let status = if step.done_now() {
        "done"
    } else {
        "already done"
    };
    let tx = step.tx.map(|tx| format!(" (tx {tx})")).unwrap_or_default();
    println!("{:<20} {status:<13} {}{tx}", step.step, step.detail);
}

/// `0.5`, `1` or `50%` as a WAD (out of [`FULL_MAGNITUDE`]), in (0, 1].
fn parse_fraction(text: &str) -> Result<u64, String> {
    let (number, scale) = match text.strip_suffix('%') {
        Some(percent) => (percent, 100),
        None => (text, 1),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole)
        || !digits(fraction)
        || (whole.is_empty() && fraction.is_empty())
        || fraction.len() > 18
    {
        return Err(format!("{text:?} is not a fraction like 0.5 or 50%"));
    }
    let parse = |s: &str| {
        if s.is_empty() {
            Ok(0)
        } else {
            s.parse::<u128>()
        }
    };
    let whole = parse(whole).map_err(|e| e.to_string())?;
    let fraction =
        parse(fraction).map_err(|e| e.to_string())? * 10u128.pow(18 - fraction.len() as u32);
    let wad = whole
        .checked_mul(u128::from(FULL_MAGNITUDE))
        .and_then(|w| w.checked_add(fraction))
        .map(|w| w / scale)
        .unwrap_or(u128::MAX);
    if wad == 0 || wad > u128::from(FULL_MAGNITUDE) {
        return Err(format!("{text:?} must be above 0 and at most 1 (100%)"));
    }
    u64::try_from(wad).map_err(|e| e.to_string())
}

fn parse_wei(text: &str) -> Result<U256, String> {
    U256::from_str_radix(text, 10).map_err(|_| format!("{text:?} is not an amount in wei"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_and_percentages() {
        assert_eq!(parse_fraction("1"), Ok(FULL_MAGNITUDE));
        assert_eq!(parse_fraction("100%"), Ok(FULL_MAGNITUDE));
        assert_eq!(parse_fraction("0.5"), Ok(FULL_MAGNITUDE / 2));
        assert_eq!(parse_fraction("50%"), Ok(FULL_MAGNITUDE / 2));
        assert_eq!(parse_fraction(".25"), Ok(FULL_MAGNITUDE / 4));
        assert_eq!(parse_fraction("12.5%"), Ok(FULL_MAGNITUDE / 8));
        for bad in ["0", "0%", "1.5", "150%", "", ".", "abc", "-0.5", "1e-3"] {
            assert!(parse_fraction(bad).is_err(), "{bad:?}");
        }
    }
}
