//! Workload generator: drives an anvil L2 with varied, seeded traffic, one block at a time.
//!
//! Anvil must run with `--no-mining` ([`crate::anvil::Anvil::no_mining`]): the generator submits a
//! block's transactions, then mines exactly one block with `evm_mine`, so it alone decides block
//! contents. Same seed, same config and same starting chain ⇒ the same transactions (and, with a
//! fixed [`WorkloadConfig::block_time`], the same blocks and state roots).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use alloy::providers::ProviderBuilder;
//! use surety_testkit::{genesis::GenesisBuilder, workload::{Workload, WorkloadConfig}};
//!
//! let genesis = GenesisBuilder::new(901).funded_accounts(64).build();
//! let file = genesis.write_temp()?;
//! let anvil = genesis.anvil(file.path()).no_mining().spawn()?;
//! let provider = ProviderBuilder::new().connect_http(anvil.url());
//! let mut workload = Workload::new(7, WorkloadConfig::new(genesis.keys.clone()));
//! let report = workload.run(&provider, 300).await?;
//! println!("{} txs, {} gas", report.total(|b| b.sent), report.gas_used());
//! # Ok(()) }
//! ```

mod contracts;
pub mod precompiles;
mod report;
mod tx;

use std::time::Duration;

use alloy::{
    consensus::TxType,
    eips::{
        BlockId, BlockNumberOrTag,
        eip1559::{BaseFeeParams, calc_next_block_base_fee},
        eip7702::Authorization,
    },
    primitives::{Address, B256, TxKind, U256},
    providers::Provider,
    signers::{SignerSync, local::PrivateKeySigner},
    sol_types::{SolCall, SolConstructor, SolEvent},
    transports::TransportError,
};
use rand::{
    Rng, RngCore, SeedableRng,
    distributions::{Distribution, WeightedIndex},
    rngs::StdRng,
};
use tokio::{sync::watch, task::JoinHandle};

pub use self::report::{Action, BlockReport, RunReport, TxTypeCounts};
use self::tx::{ACCESS_LIST_GAS, Envelope, Plan, sign};
use self::{
    contracts::{Child, Factory, Token, Workbench},
    precompiles::Precompile,
};
use crate::genesis::derive_key;

/// Key-derivation family of the EIP-7702 authorities (distinct from genesis senders' seeds).
const AUTHORITY_KEY_FAMILY: u64 = 0x7702_0000_0000_0000;

/// Errors driving the workload.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// A JSON-RPC call failed (including a transaction the node rejected).
    #[error("{method}: {source}")]
    Rpc {
        /// The RPC method.
        method: &'static str,
        /// The transport or node error.
        source: TransportError,
    },
    /// The configuration has no senders.
    #[error("the workload needs at least one funded sender")]
    NoSenders,
    /// Every weight of the mix is zero.
    #[error("the transaction mix has no non-zero weight")]
    EmptyMix,
    /// Signing a transaction or authorization failed.
    #[error("signing: {0}")]
    Signing(#[from] alloy::signers::Error),
    /// The node did not return a block or its receipts.
    #[error("the node returned no {what} for block {number}")]
    Missing {
        /// What was missing.
        what: &'static str,
        /// The block number.
        number: u64,
    },
    /// The mined block does not hold exactly the submitted transactions (is anvil mining on its
    /// own, i.e. not started with `--no-mining`?).
    #[error("block {number} holds {included} transactions, {sent} were submitted")]
    Unexpected {
        /// The block number.
        number: u64,
        /// Transactions submitted for it.
        sent: usize,
        /// Transactions it contains.
        included: usize,
    },
    /// The workload's own contracts failed to deploy.
    #[error("deploying the workload contracts failed in block {0}")]
    Setup(u64),
    /// The background task panicked or was cancelled.
    #[error("workload task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

fn rpc(method: &'static str) -> impl FnOnce(TransportError) -> WorkloadError {
    move |source| WorkloadError::Rpc { method, source }
}

/// Relative weights of the kinds of traffic (0 disables a kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    /// Plain value transfers (to fresh accounts, other senders, repeat recipients).
    pub transfer: u32,
    /// ERC-20 deploys and transfers (some over balance, so they revert).
    pub erc20: u32,
    /// Contract creation: CREATE transactions, factory CREATE / CREATE2 (sometimes colliding),
    /// create-and-selfdestruct.
    pub create: u32,
    /// SSTORE-heavy writes and clears (refunds).
    pub storage: u32,
    /// Keccak loops (compute-heavy).
    pub compute: u32,
    /// Reverts (custom error, reason string, after storage writes) and out-of-gas.
    pub failure: u32,
    /// LOG0..LOG4 with payloads.
    pub logs: u32,
    /// Precompile calls (0x01–0x11), directly and via STATICCALL.
    pub precompile: u32,
    /// EIP-7702 transactions: set, replace and clear delegations, stale authorizations.
    pub delegation: u32,
}

impl Default for Mix {
    fn default() -> Self {
        Self {
            transfer: 20,
            erc20: 12,
            create: 8,
            storage: 12,
            compute: 6,
            failure: 6,
            logs: 8,
            precompile: 10,
            delegation: 8,
        }
    }
}

impl Mix {
    fn weights(&self) -> [u32; 9] {
        [
            self.transfer,
            self.erc20,
            self.create,
            self.storage,
            self.compute,
            self.failure,
            self.logs,
            self.precompile,
            self.delegation,
        ]
    }
}

/// Workload parameters.
#[derive(Debug, Clone)]
pub struct WorkloadConfig {
    /// Funded accounts that send the traffic (e.g. [`crate::genesis::L2Genesis::keys`]).
    pub senders: Vec<PrivateKeySigner>,
    /// Transactions per block (fewer if their gas limits would exceed the block's).
    pub txs_per_block: usize,
    /// Traffic mix.
    pub mix: Mix,
    /// Seconds between block timestamps; `None` lets anvil use the wall clock.
    pub block_time: Option<u64>,
    /// Number of EIP-7702 authority accounts (keys derived from the seed; they never send).
    pub authorities: usize,
}

impl WorkloadConfig {
    /// Defaults: 40 transactions per block, the default mix, 2-second blocks, 32 authorities.
    pub fn new(senders: Vec<PrivateKeySigner>) -> Self {
        Self {
            senders,
            txs_per_block: 40,
            mix: Mix::default(),
            block_time: Some(2),
            authorities: 32,
        }
    }

    /// Set transactions per block.
    pub fn txs_per_block(mut self, n: usize) -> Self {
        self.txs_per_block = n;
        self
    }

    /// Set the mix.
    pub fn mix(mut self, mix: Mix) -> Self {
        self.mix = mix;
        self
    }

    /// Set the block time (`None`: wall clock).
    pub fn block_time(mut self, secs: Option<u64>) -> Self {
        self.block_time = secs;
        self
    }
}

/// Chain facts learnt at setup and kept up to date block by block.
#[derive(Debug)]
struct Chain {
    chain_id: u64,
    number: u64,
    timestamp: u64,
    gas_limit: u64,
    next_base_fee: u64,
    nonces: Vec<u64>,
    workbench: Address,
    factory: Address,
    tokens: Vec<TokenState>,
    salts: u64,
}

#[derive(Debug, Clone, Copy)]
struct TokenState {
    address: Address,
    owner: usize,
    balance: U256,
}

#[derive(Debug)]
struct AuthorityState {
    key: PrivateKeySigner,
    nonce: u64,
}

/// The workload generator. See the module docs.
#[derive(Debug)]
pub struct Workload {
    rng: StdRng,
    config: WorkloadConfig,
    authorities: Vec<AuthorityState>,
    recipients: Vec<Address>,
    chain: Option<Chain>,
}

impl Workload {
    /// A generator for `config`, seeded with `seed`. Nothing is sent until the first block.
    pub fn new(seed: u64, config: WorkloadConfig) -> Self {
        let authorities = (0..config.authorities as u64)
            .map(|i| AuthorityState {
                key: derive_key(AUTHORITY_KEY_FAMILY ^ seed, i),
                nonce: 0,
            })
            .collect();
        let mut rng = StdRng::seed_from_u64(seed);
        let recipients = (0..16)
            .map(|_| {
                let mut a = Address::ZERO;
                rng.fill_bytes(a.as_mut_slice());
                a
            })
            .collect();
        Self {
            rng,
            config,
            authorities,
            recipients,
            chain: None,
        }
    }

    /// Mine `blocks` blocks of traffic (after the one-block setup on the first call).
    pub async fn run<P: Provider>(
        &mut self,
        provider: &P,
        blocks: u64,
    ) -> Result<RunReport, WorkloadError> {
        let mut report = RunReport::default();
        for _ in 0..blocks {
            report.blocks.push(self.next_block(provider).await?);
        }
        Ok(report)
    }

    /// Submit one block of traffic, mine it and report on it. The first call first mines a setup
    /// block that deploys the workload's contracts; so does the call after an error, which
    /// resynchronises nonces from the chain.
    pub async fn next_block<P: Provider>(
        &mut self,
        provider: &P,
    ) -> Result<BlockReport, WorkloadError> {
        let mut chain = match self.chain.take() {
            Some(chain) => chain,
            None => self.setup(provider).await?,
        };
        let result = match self.plan_block(&mut chain) {
            Ok(plans) => self.submit_and_mine(provider, &mut chain, plans).await,
            Err(e) => Err(e),
        };
        // After an error the local nonces may be ahead of the chain: the next call starts over
        // from the chain (and deploys fresh contracts).
        if result.is_ok() {
            self.chain = Some(chain);
        }
        result
    }

    /// Run in the background, one block every `interval`, until [`WorkloadHandle::stop`] (or
    /// drop). For `surety devnet`: steady traffic at `txs_per_block / interval`.
    pub fn spawn<P>(mut self, provider: P, interval: Duration) -> WorkloadHandle
    where
        P: Provider + Send + Sync + 'static,
    {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut report = RunReport::default();
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stopped.changed() => return Ok(report),
                    _ = ticker.tick() => {}
                }
                let block = self.next_block(&provider).await?;
                tracing::debug!(
                    number = block.number,
                    txs = block.sent,
                    gas = block.gas_used,
                    "workload block"
                );
                report.blocks.push(block);
            }
        });
        WorkloadHandle {
            stop,
            task: Some(task),
        }
    }

    /// Forget what the generator knows about the chain, so the next block starts over from the
    /// chain's state (nonces, head; contracts redeployed). Call it after rewinding the chain, e.g.
    /// `evm_revert` to build a competing branch in a reorg test.
    pub fn resync(&mut self) {
        self.chain = None;
    }

    /// The deployed Workbench (storage/logs/precompiles/7702 delegate), once set up.
    pub fn workbench(&self) -> Option<Address> {
        self.chain.as_ref().map(|c| c.workbench)
    }

    /// The deployed factory, once set up.
    pub fn factory(&self) -> Option<Address> {
        self.chain.as_ref().map(|c| c.factory)
    }

    /// The EIP-7702 authority addresses.
    pub fn authorities(&self) -> Vec<Address> {
        self.authorities.iter().map(|a| a.key.address()).collect()
    }

    async fn setup<P: Provider>(&mut self, provider: &P) -> Result<Chain, WorkloadError> {
        if self.config.senders.is_empty() {
            return Err(WorkloadError::NoSenders);
        }
        if self.config.mix.weights().iter().all(|w| *w == 0) {
            return Err(WorkloadError::EmptyMix);
        }
        let chain_id = provider.get_chain_id().await.map_err(rpc("eth_chainId"))?;
        let mut nonces = Vec::with_capacity(self.config.senders.len());
        for sender in &self.config.senders {
            let nonce = provider
                .get_transaction_count(sender.address())
                .block_id(BlockId::latest())
                .await
                .map_err(rpc("eth_getTransactionCount"))?;
            nonces.push(nonce);
        }
        for authority in &mut self.authorities {
            authority.nonce = provider
                .get_transaction_count(authority.key.address())
                .block_id(BlockId::latest())
                .await
                .map_err(rpc("eth_getTransactionCount"))?;
        }
        let latest = provider
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(rpc("eth_getBlockByNumber"))?
            .ok_or(WorkloadError::Missing {
                what: "header",
                number: u64::MAX,
            })?;
        let header = &latest.header;
        let deployer = self.config.senders[0].address();
        let mut chain = Chain {
            chain_id,
            number: header.number,
            timestamp: header.timestamp,
            gas_limit: header.gas_limit,
            next_base_fee: next_base_fee(
                header.gas_used,
                header.gas_limit,
                header.base_fee_per_gas,
            ),
            workbench: deployer.create(nonces[0]),
            factory: deployer.create(nonces[0] + 1),
            nonces,
            tokens: Vec::new(),
            salts: 0,
        };
        let plans = vec![
            Plan::new(
                Action::Setup,
                0,
                TxKind::Create,
                Workbench::BYTECODE.to_vec(),
                2_000_000,
            ),
            Plan::new(
                Action::Setup,
                0,
                TxKind::Create,
                Factory::BYTECODE.to_vec(),
                2_000_000,
            ),
        ];
        let report = self.submit_and_mine(provider, &mut chain, plans).await?;
        if report.succeeded != 2 {
            return Err(WorkloadError::Setup(report.number));
        }
        tracing::debug!(block = report.number, "workload contracts deployed");
        Ok(chain)
    }

    /// Draw one block's transactions within the block gas limit.
    fn plan_block(&mut self, chain: &mut Chain) -> Result<Vec<Plan>, WorkloadError> {
        let dist =
            WeightedIndex::new(self.config.mix.weights()).map_err(|_| WorkloadError::EmptyMix)?;
        let gas_limit = chain.gas_limit;
        let mut plans = Vec::with_capacity(self.config.txs_per_block);
        let mut gas = 0;
        // Each authority signs at most one authorization per block: the miner orders by fee,
        // so two authorizations of one authority in a block could apply in either order.
        let mut free_authorities: Vec<usize> = (0..self.authorities.len()).collect();
        while plans.len() < self.config.txs_per_block {
            let plan = match dist.sample(&mut self.rng) {
                0 => self.plan_transfer(),
                1 => self.plan_erc20(chain),
                2 => self.plan_create(chain),
                3 => self.plan_storage(chain),
                4 => self.plan_compute(chain),
                5 => self.plan_failure(chain),
                6 => self.plan_logs(chain),
                7 => self.plan_precompile(chain),
                _ => match self.plan_delegation(chain, &mut free_authorities)? {
                    Some(plan) => plan,
                    None => self.plan_transfer(),
                },
            };
            let mut plan = plan;
            if plan.envelope == Envelope::Eip2930 {
                plan.gas += ACCESS_LIST_GAS;
            }
            if gas + plan.gas > gas_limit {
                break;
            }
            gas += plan.gas;
            plans.push(plan);
        }
        Ok(plans)
    }

    fn sender(&mut self) -> usize {
        self.rng.gen_range(0..self.config.senders.len())
    }

    fn envelope(&mut self) -> Envelope {
        match self.rng.gen_range(0..10) {
            0 | 1 => Envelope::Legacy,
            2 | 3 => Envelope::Eip2930,
            _ => Envelope::Eip1559,
        }
    }

    fn random_address(&mut self) -> Address {
        let mut a = Address::ZERO;
        self.rng.fill_bytes(a.as_mut_slice());
        a
    }

    fn plan_transfer(&mut self) -> Plan {
        let sender = self.sender();
        let to = match self.rng.gen_range(0..10) {
            0..=4 => self.random_address(),
            5..=7 => {
                let other = self.sender();
                self.config.senders[other].address()
            }
            _ => self.recipients[self.rng.gen_range(0..self.recipients.len())],
        };
        let mut plan = Plan::new(
            Action::Transfer,
            sender,
            TxKind::Call(to),
            Vec::new(),
            21_000,
        );
        plan.value = if self.rng.gen_bool(0.05) {
            U256::ZERO
        } else {
            U256::from(self.rng.gen_range(1..1_000_000_000_000_000u64))
        };
        plan.envelope = self.envelope();
        plan
    }

    fn plan_erc20(&mut self, chain: &mut Chain) -> Plan {
        let tokens = chain.tokens.len();
        if tokens == 0 || self.rng.gen_bool(0.1) {
            let sender = self.sender();
            let supply = U256::from(self.rng.gen_range(1_000_000u64..u64::MAX));
            let mut input = Token::BYTECODE.to_vec();
            input.extend(Token::constructorCall { supply }.abi_encode());
            let mut plan = Plan::new(Action::TokenDeploy, sender, TxKind::Create, input, 900_000);
            plan.token_supply = supply;
            plan.envelope = self.envelope();
            return plan;
        }
        let index = self.rng.gen_range(0..tokens);
        let token = chain.tokens[index];
        let to = if self.rng.gen_bool(0.5) {
            self.random_address()
        } else {
            self.recipients[self.rng.gen_range(0..self.recipients.len())]
        };
        // One in ten asks for more than the owner holds and reverts.
        let amount = if self.rng.gen_bool(0.1) || token.balance.is_zero() {
            token.balance + U256::from(1)
        } else {
            U256::from(
                self.rng
                    .gen_range(1..=token.balance.saturating_to::<u64>().clamp(1, 1_000_000)),
            )
        };
        if amount <= token.balance {
            chain.tokens[index].balance -= amount;
        }
        let input = Token::transferCall { to, value: amount }.abi_encode();
        let mut plan = Plan::new(
            Action::TokenTransfer,
            token.owner,
            TxKind::Call(token.address),
            input,
            80_000,
        );
        plan.envelope = self.envelope();
        plan
    }

    fn plan_create(&mut self, chain: &mut Chain) -> Plan {
        let sender = self.sender();
        let factory = chain.factory;
        let s = U256::from(self.rng.next_u64());
        let mut plan = match self.rng.gen_range(0..4) {
            0 => {
                let mut input = Child::BYTECODE.to_vec();
                input.extend(Child::constructorCall { s }.abi_encode());
                Plan::new(Action::Create, sender, TxKind::Create, input, 250_000)
            }
            1 => Plan::new(
                Action::FactoryCreate,
                sender,
                TxKind::Call(factory),
                Factory::createCall { s }.abi_encode(),
                250_000,
            ),
            2 => {
                // One in eight reuses an earlier salt: the CREATE2 address is taken, so it reverts.
                let salt = if chain.salts > 0 && self.rng.gen_bool(0.125) {
                    self.rng.gen_range(0..chain.salts)
                } else {
                    chain.salts += 1;
                    chain.salts - 1
                };
                let input = Factory::create2Call {
                    salt: B256::from(U256::from(salt)),
                    s,
                }
                .abi_encode();
                Plan::new(
                    Action::FactoryCreate2,
                    sender,
                    TxKind::Call(factory),
                    input,
                    250_000,
                )
            }
            _ => Plan::new(
                Action::CreateAndDestroy,
                sender,
                TxKind::Call(factory),
                Factory::createAndDestroyCall { s }.abi_encode(),
                250_000,
            ),
        };
        if self.rng.gen_bool(0.3) {
            plan.value = U256::from(self.rng.gen_range(1..1_000_000u64));
        }
        plan.envelope = self.envelope();
        plan
    }

    fn plan_storage(&mut self, chain: &Chain) -> Plan {
        let sender = self.sender();
        let workbench = chain.workbench;
        let start = U256::from(self.rng.gen_range(0..512u64));
        let count: u64 = self.rng.gen_range(1..=24);
        let mut plan = if self.rng.gen_bool(0.6) {
            let value = if self.rng.gen_bool(0.1) {
                U256::ZERO
            } else {
                U256::from(self.rng.next_u64())
            };
            let input = Workbench::fillCall {
                start,
                count: U256::from(count),
                value,
            }
            .abi_encode();
            Plan::new(
                Action::StorageFill,
                sender,
                TxKind::Call(workbench),
                input,
                40_000 + count * 25_000,
            )
        } else {
            let input = Workbench::clearCall {
                start,
                count: U256::from(count),
            }
            .abi_encode();
            Plan::new(
                Action::StorageClear,
                sender,
                TxKind::Call(workbench),
                input,
                40_000 + count * 6_000,
            )
        };
        plan.envelope = self.envelope();
        plan
    }

    fn plan_compute(&mut self, chain: &Chain) -> Plan {
        let sender = self.sender();
        let rounds: u64 = self.rng.gen_range(100..2_000);
        let input = Workbench::burnCall {
            rounds: U256::from(rounds),
        }
        .abi_encode();
        let mut plan = Plan::new(
            Action::Compute,
            sender,
            TxKind::Call(chain.workbench),
            input,
            80_000 + rounds * 400,
        );
        plan.envelope = self.envelope();
        plan
    }

    fn plan_failure(&mut self, chain: &Chain) -> Plan {
        let sender = self.sender();
        let workbench = chain.workbench;
        let mut plan = if self.rng.gen_bool(0.3) {
            // Fresh and existing slots alike (the fill range overlaps `plan_storage`'s).
            let count: u64 = self.rng.gen_range(1..=8);
            let input = Workbench::fillThenFailCall {
                start: U256::from(self.rng.gen_range(0..600u64)),
                count: U256::from(count),
                value: U256::from(self.rng.next_u64()),
            }
            .abi_encode();
            Plan::new(
                Action::RevertAfterWrite,
                sender,
                TxKind::Call(workbench),
                input,
                40_000 + count * 25_000,
            )
        } else if self.rng.gen_bool(0.5) {
            let input = Workbench::failCall {
                code: U256::from(self.rng.next_u64()),
            }
            .abi_encode();
            Plan::new(
                Action::Revert,
                sender,
                TxKind::Call(workbench),
                input,
                60_000,
            )
        } else {
            // A loop far longer than the gas allows.
            let input = Workbench::burnCall {
                rounds: U256::from(100_000u64),
            }
            .abi_encode();
            Plan::new(
                Action::OutOfGas,
                sender,
                TxKind::Call(workbench),
                input,
                self.rng.gen_range(30_000..120_000),
            )
        };
        plan.envelope = self.envelope();
        plan
    }

    fn plan_logs(&mut self, chain: &Chain) -> Plan {
        let sender = self.sender();
        let count: u64 = self.rng.gen_range(1..=20);
        let mut data = vec![0; self.rng.gen_range(0..160)];
        self.rng.fill_bytes(&mut data);
        let gas = 40_000 + count * (4_000 + 8 * data.len() as u64) + 16 * data.len() as u64;
        let input = Workbench::logsCall {
            count: U256::from(count),
            data: data.into(),
        }
        .abi_encode();
        let mut plan = Plan::new(
            Action::Logs,
            sender,
            TxKind::Call(chain.workbench),
            input,
            gas,
        );
        plan.envelope = self.envelope();
        plan
    }

    fn plan_precompile(&mut self, chain: &Chain) -> Plan {
        let sender = self.sender();
        let precompile = Precompile::ALL[self.rng.gen_range(0..Precompile::ALL.len())];
        let data = precompile.input(&mut self.rng);
        let calldata_gas = 16 * data.len() as u64;
        let mut plan = if self.rng.gen_bool(0.5) {
            let gas = 21_000 + calldata_gas + precompile.gas();
            Plan::new(
                Action::Precompile,
                sender,
                TxKind::Call(precompile.address()),
                data.to_vec(),
                gas,
            )
        } else {
            let input = Workbench::callPrecompileCall {
                target: precompile.address(),
                input: data,
            }
            .abi_encode();
            let gas = 60_000 + calldata_gas + precompile.gas();
            Plan::new(
                Action::Precompile,
                sender,
                TxKind::Call(chain.workbench),
                input,
                gas,
            )
        };
        plan.envelope = self.envelope();
        plan
    }

    /// An EIP-7702 transaction carrying 1–3 authorizations: mostly delegations to the
    /// Workbench, some clearing (address zero), some chain-agnostic (chain id 0), some stale
    /// (wrong nonce, skipped by the EVM); then a call into the first authority.
    fn plan_delegation(
        &mut self,
        chain: &Chain,
        free: &mut Vec<usize>,
    ) -> Result<Option<Plan>, WorkloadError> {
        if free.is_empty() {
            return Ok(None);
        }
        let sender = self.sender();
        let (chain_id, workbench) = (chain.chain_id, chain.workbench);
        let n = self.rng.gen_range(1..=3).min(free.len());
        let mut authorizations = Vec::with_capacity(n);
        let mut first = Address::ZERO;
        for i in 0..n {
            let index = free.swap_remove(self.rng.gen_range(0..free.len()));
            let roll = self.rng.gen_range(0..20);
            let authority = &mut self.authorities[index];
            if i == 0 {
                first = authority.key.address();
            }
            let address = if roll == 0 { Address::ZERO } else { workbench };
            let auth_chain = if roll == 1 { 0 } else { chain_id };
            let stale = roll == 2;
            let nonce = if stale {
                authority.nonce + 1
            } else {
                authority.nonce
            };
            let auth = Authorization {
                chain_id: U256::from(auth_chain),
                address,
                nonce,
            };
            let signature = authority.key.sign_hash_sync(&auth.signature_hash())?;
            authorizations.push(auth.into_signed(signature));
            if !stale {
                authority.nonce += 1;
            }
        }
        let key = U256::from(self.rng.gen_range(0..64u64));
        let input = Workbench::pokeCall {
            key,
            value: U256::from(self.rng.next_u64()),
        }
        .abi_encode();
        let gas = 100_000 + 26_000 * n as u64;
        let mut plan = Plan::new(Action::Delegation, sender, TxKind::Call(first), input, gas);
        plan.authorizations = authorizations;
        if self.rng.gen_bool(0.2) {
            plan.value = U256::from(self.rng.gen_range(1..1_000_000u64));
        }
        Ok(Some(plan))
    }

    /// Sign the plans with fresh nonces and current fees, submit them in one JSON-RPC batch,
    /// mine one block, and read it back.
    async fn submit_and_mine<P: Provider>(
        &mut self,
        provider: &P,
        chain: &mut Chain,
        plans: Vec<Plan>,
    ) -> Result<BlockReport, WorkloadError> {
        let mut report = BlockReport {
            sent: plans.len(),
            ..Default::default()
        };
        let mut raw = Vec::with_capacity(plans.len());
        let mut deployed_tokens = Vec::new();
        {
            for plan in plans {
                *report.actions.entry(plan.action).or_default() += 1;
                report.authorizations += plan.authorizations.len();
                let nonce = chain.nonces[plan.sender];
                chain.nonces[plan.sender] += 1;
                let tip = u128::from(self.rng.gen_range(1..2_000_000_000u64));
                let max_fee = 2 * u128::from(chain.next_base_fee) + tip;
                let signer = &self.config.senders[plan.sender];
                let (envelope, hash) = sign(
                    signer,
                    chain.chain_id,
                    nonce,
                    tip,
                    max_fee,
                    &plan,
                    &mut self.rng,
                )?;
                if plan.action == Action::TokenDeploy {
                    let supply = plan.token_supply;
                    let address = signer.address().create(nonce);
                    deployed_tokens.push((
                        hash,
                        TokenState {
                            address,
                            owner: plan.sender,
                            balance: supply,
                        },
                    ));
                }
                raw.push(envelope);
            }
        }

        let mut batch = alloy::rpc::client::BatchRequest::new(provider.client());
        let mut waiters = Vec::with_capacity(raw.len());
        for tx in &raw {
            waiters.push(
                batch
                    .add_call::<_, B256>("eth_sendRawTransaction", &(tx,))
                    .map_err(rpc("eth_sendRawTransaction"))?,
            );
        }
        if !waiters.is_empty() {
            batch.send().await.map_err(rpc("eth_sendRawTransaction"))?;
            for waiter in waiters {
                waiter.await.map_err(rpc("eth_sendRawTransaction"))?;
            }
        }

        let number = chain.number + 1;
        match self.config.block_time {
            Some(secs) => {
                let params = serde_json::json!({ "timestamp": chain.timestamp + secs.max(1) });
                provider
                    .raw_request::<_, serde_json::Value>("evm_mine".into(), (params,))
                    .await
            }
            None => {
                provider
                    .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
                    .await
            }
        }
        .map_err(rpc("evm_mine"))?;
        let block = provider
            .get_block_by_number(BlockNumberOrTag::Number(number))
            .await
            .map_err(rpc("eth_getBlockByNumber"))?
            .ok_or(WorkloadError::Missing {
                what: "header",
                number,
            })?;
        let receipts = provider
            .get_block_receipts(BlockId::number(number))
            .await
            .map_err(rpc("eth_getBlockReceipts"))?
            .ok_or(WorkloadError::Missing {
                what: "receipts",
                number,
            })?;
        if receipts.len() != report.sent {
            return Err(WorkloadError::Unexpected {
                number,
                sent: report.sent,
                included: receipts.len(),
            });
        }

        let header = &block.header;
        chain.number = number;
        chain.timestamp = header.timestamp;
        chain.gas_limit = header.gas_limit;
        chain.next_base_fee =
            next_base_fee(header.gas_used, header.gas_limit, header.base_fee_per_gas);
        report.number = number;
        report.hash = header.hash;
        report.gas_used = header.gas_used;
        let created = Factory::Created::SIGNATURE_HASH;
        for receipt in &receipts {
            if receipt.status() {
                report.succeeded += 1;
            } else {
                report.reverted += 1;
            }
            if receipt.contract_address.is_some() {
                report.contracts_created += 1;
            }
            let logs = receipt.inner.logs();
            report.logs += logs.len();
            report.factory_creations += logs
                .iter()
                .filter(|l| l.address() == chain.factory && l.topics().first() == Some(&created))
                .count();
            match receipt.inner.tx_type() {
                TxType::Legacy => report.tx_types.legacy += 1,
                TxType::Eip2930 => report.tx_types.eip2930 += 1,
                TxType::Eip1559 => report.tx_types.eip1559 += 1,
                TxType::Eip7702 => report.tx_types.eip7702 += 1,
                TxType::Eip4844 => {}
            }
            if let Some(pos) = deployed_tokens
                .iter()
                .position(|(h, _)| *h == receipt.transaction_hash)
            {
                let (_, token) = deployed_tokens.swap_remove(pos);
                if receipt.status() {
                    chain.tokens.push(token);
                }
            }
        }
        Ok(report)
    }
}

fn next_base_fee(gas_used: u64, gas_limit: u64, base_fee: Option<u64>) -> u64 {
    base_fee.map_or(0, |fee| {
        calc_next_block_base_fee(gas_used, gas_limit, fee, BaseFeeParams::ethereum())
    })
}

/// A workload running in the background (see [`Workload::spawn`]); aborted on drop.
#[derive(Debug)]
pub struct WorkloadHandle {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<Result<RunReport, WorkloadError>>>,
}

impl WorkloadHandle {
    /// Stop after the block in progress and return what was mined (or the error that ended it).
    pub async fn stop(mut self) -> Result<RunReport, WorkloadError> {
        let _ = self.stop.send(true);
        match self.task.take() {
            Some(task) => task.await?,
            None => Ok(RunReport::default()),
        }
    }

    /// Whether the background task has ended (it ends early only on an error).
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for WorkloadHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
