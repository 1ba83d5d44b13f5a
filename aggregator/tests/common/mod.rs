//! A real L1 for the aggregator tests: anvil (Prague), the EigenLayer core and Surety deployed
//! with `deploy_all`, four operators onboarded with unequal stakes (10/20/30/40%), one rollup
//! registered with a 66.67% threshold, then a block every second. The test plays the operators:
//! it signs statements of a synthetic rollup chain with their BLS keys and sends them over gRPC.

#![allow(dead_code)]

use std::{net::SocketAddr, path::Path, time::Duration};

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, U256, keccak256},
    providers::{DynProvider, Provider, ProviderBuilder, WalletProvider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use surety_aggregator::{
    AggregatorConfig,
    config::{IntakeConfig, L1Config, SubmitConfig},
};
use surety_contracts::{
    CoreParams, Deployment, SuretyParams,
    bindings::{CertificateVerifier, OperatorRegistry},
    deploy_all, send,
};
use surety_primitives::{Attestation, Domain, SecretKey, Statement};
use surety_proto::v1::{self, aggregator_client::AggregatorClient};
use surety_testkit::anvil::{Anvil, AnvilInstance};
use tonic::transport::Channel;

pub(crate) const ETHER: u128 = 1_000_000_000_000_000_000;
pub(crate) const STAKES: [u128; 4] = [10 * ETHER, 20 * ETHER, 30 * ETHER, 40 * ETHER];
pub(crate) const THRESHOLD_BPS: u16 = 6_667;
const ALLOCATION_DELAY: u32 = 3;
/// Dev account that submits certificates and evidence.
const SUBMITTER: usize = 9;

pub(crate) struct Operator {
    pub(crate) address: Address,
    pub(crate) key: SecretKey,
    pub(crate) stake: U256,
}

pub(crate) struct Devnet {
    pub(crate) anvil: AnvilInstance,
    pub(crate) l1: DynProvider,
    pub(crate) deployment: Deployment,
    pub(crate) operators: Vec<Operator>,
    pub(crate) rollup_id: u64,
    pub(crate) genesis_hash: B256,
}

fn account(anvil: &AnvilInstance, index: usize) -> impl Provider + WalletProvider + Clone + use<> {
    let signer: PrivateKeySigner = anvil.keys()[index].clone();
    ProviderBuilder::new()
        .disable_recommended_fillers()
        .with_gas_estimation()
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(EthereumWallet::from(signer))
        .connect_http(anvil.url())
}

impl Devnet {
    pub(crate) async fn start() -> Self {
        let anvil = Anvil::new().spawn().expect("anvil");
        let deployer = account(&anvil, 0);
        // EigenLayer refuses every slash before block `min_withdrawal_delay + 1`.
        deployer
            .anvil_mine(
                Some(u64::from(CoreParams::DEVNET.min_withdrawal_delay) + 1),
                None,
            )
            .await
            .unwrap();
        let deployment = deploy_all(&deployer, CoreParams::DEVNET, &SuretyParams::devnet())
            .await
            .unwrap();
        let mut operators = Vec::new();
        for (i, stake) in STAKES.into_iter().enumerate() {
            let provider = account(&anvil, i + 1);
            let key = SecretKey::from_ikm(&[u8::try_from(i).unwrap() + 1; 32]);
            let stake = U256::from(stake);
            deployment
                .onboard_operator(&provider, &key, stake, ALLOCATION_DELAY)
                .await
                .unwrap();
            operators.push(Operator {
                address: provider.default_signer_address(),
                key,
                stake,
            });
        }
        deployer
            .anvil_mine(Some(ALLOCATION_DELAY.into()), None)
            .await
            .unwrap();
        let registry = OperatorRegistry::new(deployment.surety.operator_registry, &deployer);
        send(
            "refresh stakes",
            registry.update(operators.iter().map(|o| o.address).collect()),
        )
        .await
        .unwrap();
        let source = surety_contracts::deploy_posted_root_source(
            &deployer,
            deployer.default_signer_address(),
        )
        .await
        .unwrap();
        let genesis_hash = keccak256("l2 genesis block");
        let verifier = CertificateVerifier::new(deployment.surety.certificate_verifier, &deployer);
        let receipt = send(
            "register the rollup",
            verifier.register(
                901,
                genesis_hash,
                keccak256("l2 genesis state"),
                THRESHOLD_BPS,
                source,
            ),
        )
        .await
        .unwrap();
        let rollup_id = receipt
            .decoded_log::<CertificateVerifier::RollupRegistered>()
            .unwrap()
            .rollupId;
        // The aggregator reads L1 one block behind the head (certificates need a strictly past
        // reference block): leave the registration behind.
        deployer.anvil_mine(Some(1), None).await.unwrap();
        // From here on, an L1 block per second, as on a real chain.
        deployer.anvil_set_interval_mining(1).await.unwrap();
        Self {
            anvil,
            l1: deployer.erased(),
            deployment,
            operators,
            rollup_id,
            genesis_hash,
        }
    }

    /// An aggregator configuration on this L1 with its datadir under `dir`.
    pub(crate) fn config(&self, dir: &Path) -> AggregatorConfig {
        self.config_with_submitter(dir, SUBMITTER)
    }

    /// As [`Self::config`], submitting from dev account `submitter`.
    pub(crate) fn config_with_submitter(&self, dir: &Path, submitter: usize) -> AggregatorConfig {
        let key_file = dir.join("submitter.hex");
        let key = self.anvil.keys()[submitter].to_bytes();
        std::fs::write(&key_file, format!("0x{}\n", alloy::hex::encode(key))).unwrap();
        let s = &self.deployment.surety;
        AggregatorConfig {
            datadir: dir.join("data"),
            grpc_addr: "127.0.0.1:0".parse().unwrap(),
            http_addr: Some("127.0.0.1:0".parse().unwrap()),
            l1: L1Config {
                rpc: self.anvil.endpoint(),
                deployment: None,
                certificate_verifier: Some(s.certificate_verifier),
                operator_registry: Some(s.operator_registry),
                slasher: Some(s.slasher),
                ecdsa_key_file: key_file,
                ecdsa_password_file: None,
                poll_interval_ms: Duration::from_millis(100),
                from_block: 0,
            },
            submit: SubmitConfig::default(),
            intake: IntakeConfig::default(),
            rollups: Vec::new(),
        }
    }

    pub(crate) fn domain(&self) -> Domain {
        Domain::new(
            self.deployment.chain_id,
            self.deployment.surety.certificate_verifier,
        )
    }

    /// Blocks 1..=n of a rollup chain from genesis (`tag` makes a different chain).
    pub(crate) fn chain(&self, n: u64, tag: &str) -> Vec<Statement> {
        let mut parent = self.genesis_hash;
        (1..=n)
            .map(|number| {
                let s = Statement {
                    rollup_id: self.rollup_id,
                    block_number: number,
                    block_hash: keccak256(format!("{tag} block {number} on {parent}")),
                    parent_hash: parent,
                    state_root: keccak256(format!("{tag} root {number}")),
                };
                parent = s.block_hash;
                s
            })
            .collect()
    }

    pub(crate) fn attest(&self, operator: usize, statement: &Statement) -> v1::Attestation {
        let key = &self.operators[operator].key;
        let a = Attestation {
            statement: *statement,
            public_key: key.public_key(),
            signature: key.sign(&statement.signing_root(&self.domain()).0),
        };
        (&a).into()
    }

    pub(crate) fn verifier(
        &self,
    ) -> CertificateVerifier::CertificateVerifierInstance<&DynProvider> {
        CertificateVerifier::new(self.deployment.surety.certificate_verifier, &self.l1)
    }

    pub(crate) async fn is_final(&self, s: &Statement) -> bool {
        self.verifier()
            .isFinal(s.rollup_id, s.block_number, s.block_hash, s.state_root)
            .call()
            .await
            .unwrap()
    }

    pub(crate) async fn certified_head(&self) -> u64 {
        self.verifier()
            .latestCertifiedBlock(self.rollup_id)
            .call()
            .await
            .unwrap()
    }

    /// Waits up to `secs` for `s` to be final on L1.
    pub(crate) async fn wait_final(&self, s: &Statement, secs: u64) {
        for _ in 0..secs * 5 {
            if self.is_final(s).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("{s:?} not final after {secs} s");
    }
}

pub(crate) async fn client(addr: SocketAddr) -> AggregatorClient<Channel> {
    AggregatorClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}

/// Sends one batch and returns the results.
pub(crate) async fn submit(
    client: &mut AggregatorClient<Channel>,
    attestations: Vec<v1::Attestation>,
) -> Vec<v1::AttestationResult> {
    client
        .submit_attestations(v1::AttestationBatch { attestations })
        .await
        .unwrap()
        .into_inner()
        .results
}
