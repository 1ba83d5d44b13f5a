//! Certificates, the circuit breaker and double-signing evidence end to end on a real anvil with
//! the real EigenLayer core: operators onboard through the AllocationManager and sign statements
//! with BLS12-381 keys, the verifier accepts their aggregate signature as a certificate only with
//! enough stake behind it, their aggregated mismatch reports halt a rollup until its source
//! settles the height, and an operator that signs two conflicting statements loses its allocation
//! and collateral.

mod common;

use alloy::{
    contract::{CallBuilder, CallDecoder},
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{DynProvider, Provider, WalletProvider},
    rpc::types::TransactionReceipt,
};
use common::{account, mine, spawn_l1};
use surety_contracts::{
    CoreParams, Deployment, SuretyParams,
    bindings::{
        CertificateVerifier::{self, SignerProof},
        CompensationPool, ExampleBridge, OperatorRegistry, PostedRootSource, RollupStatus, Slasher,
        SuretyRegistrar,
    },
    deploy_all, deploy_example_bridge, deploy_posted_root_source, signer_proof,
};
use surety_primitives::{
    Domain, Mismatch, MismatchReport, PublicKey, SecretKey, Signature, Statement,
};

const ETHER: u128 = 1_000_000_000_000_000_000;
/// Blocks between an allocation and the moment it is slashable: longer than onboarding takes
/// after it, so the registry first records zero stake and keepers must refresh it.
const ALLOCATION_DELAY: u32 = 3;
/// Unequal stakes, so that a quorum is a matter of stake, not of heads.
const STAKES: [u128; 4] = [10 * ETHER, 20 * ETHER, 30 * ETHER, 40 * ETHER];
const THRESHOLD_BPS: u16 = 6_667;
const L2_CHAIN_ID: u64 = 901;

struct Operator {
    address: Address,
    key: SecretKey,
    stake: U256,
}

/// A deployed devnet with onboarded operators and one registered rollup.
struct Devnet {
    // Keeps anvil alive for the test's duration.
    _anvil: alloy::node_bindings::AnvilInstance,
    /// The deployer; anyone may submit certificates and evidence, so it sends everything.
    l1: DynProvider,
    deployment: Deployment,
    operators: Vec<Operator>,
    rollup_id: u64,
    genesis_hash: B256,
}

/// Sends `call` and insists that it was mined successfully.
async fn mined<P: Provider, D: CallDecoder>(call: CallBuilder<P, D>) -> TransactionReceipt {
    let receipt = call.send().await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status(), "{receipt:?}");
    receipt
}

impl Devnet {
    async fn start() -> Self {
        let anvil = spawn_l1();
        let deployer = account(&anvil, 0);
        // EigenLayer's DelegationManager cannot slash before block `min_withdrawal_delay + 1`
        // (see `CoreParams::min_withdrawal_delay`); a real L1 is far past it, a fresh anvil not.
        mine(
            &deployer,
            u64::from(CoreParams::DEVNET.min_withdrawal_delay) + 1,
        )
        .await;
        let deployment = deploy_all(&deployer, CoreParams::DEVNET, &SuretyParams::devnet())
            .await
            .unwrap();
        let l1 = deployer.erased();
        assert_eq!(deployment.chain_id, anvil.chain_id());

        let mut operators = Vec::new();
        for (i, stake) in STAKES.into_iter().enumerate() {
            let provider = account(&anvil, i + 1);
            let key = SecretKey::from_ikm(&[u8::try_from(i).unwrap() + 1; 32]);
            let stake = U256::from(stake);
            let shares = deployment
                .onboard_operator(&provider, &key, stake, ALLOCATION_DELAY)
                .await
                .unwrap();
            // A fresh strategy without slashing or yield mints shares 1:1.
            assert_eq!(shares, stake);
            operators.push(Operator {
                address: provider.default_signer_address(),
                key,
                stake,
            });
        }
        let genesis_hash = keccak256("l2 genesis block");
        let mut devnet = Self {
            _anvil: anvil,
            l1,
            deployment,
            operators,
            rollup_id: 0,
            genesis_hash,
        };

        // Every operator registered before its allocation took effect: active, but no stake yet.
        let registry = devnet.registry();
        let addresses: Vec<Address> = devnet.operators.iter().map(|op| op.address).collect();
        for op in &devnet.operators {
            let stake = registry.stakeOf(op.address).call().await.unwrap();
            assert!(stake.active);
            assert_eq!(stake.stake, U256::ZERO);
            assert_eq!(
                registry.publicKeyOf(op.address).call().await.unwrap(),
                Bytes::from(op.key.public_key().to_eip2537())
            );
        }
        assert_eq!(registry.totalStake().call().await.unwrap(), U256::ZERO);
        // The aggregate key is the sum of the keys that joined.
        let keys: Vec<PublicKey> = devnet
            .operators
            .iter()
            .map(|op| op.key.public_key())
            .collect();
        assert_eq!(
            registry.apk().call().await.unwrap(),
            Bytes::from(PublicKey::aggregate(&keys).unwrap().to_eip2537())
        );

        // After the delay, EigenLayer counts the allocations and a keeper's refresh records them.
        mine(&devnet.l1, ALLOCATION_DELAY.into()).await;
        mined(registry.update(addresses)).await;
        let mut total = U256::ZERO;
        for op in &devnet.operators {
            assert_eq!(devnet.allocated_stake(op.address).await, op.stake);
            let stake = registry.stakeOf(op.address).call().await.unwrap();
            assert!(stake.active);
            assert_eq!(stake.stake, op.stake);
            total += op.stake;
        }
        assert_eq!(registry.totalStake().call().await.unwrap(), total);

        // The devnet's canonical-root adapter, posted by the deployer; this test never posts a root.
        let poster = devnet._anvil.addresses()[0];
        let source = deploy_posted_root_source(&devnet.l1, poster).await.unwrap();
        let receipt = mined(devnet.verifier().register(
            L2_CHAIN_ID,
            genesis_hash,
            keccak256("l2 genesis state"),
            THRESHOLD_BPS,
            source,
        ))
        .await;
        let registered = receipt
            .decoded_log::<CertificateVerifier::RollupRegistered>()
            .unwrap();
        assert_eq!(registered.chainId, L2_CHAIN_ID);
        assert_eq!(registered.thresholdBps, THRESHOLD_BPS);
        devnet.rollup_id = registered.rollupId;
        assert_eq!(
            devnet
                .verifier()
                .rootSource(devnet.rollup_id)
                .call()
                .await
                .unwrap(),
            source
        );
        // Certificates name a strictly past reference block; leave one behind the refresh.
        mine(&devnet.l1, 1).await;
        devnet
    }

    fn registry(&self) -> OperatorRegistry::OperatorRegistryInstance<&DynProvider> {
        OperatorRegistry::new(self.deployment.surety.operator_registry, &self.l1)
    }

    fn verifier(&self) -> CertificateVerifier::CertificateVerifierInstance<&DynProvider> {
        CertificateVerifier::new(self.deployment.surety.certificate_verifier, &self.l1)
    }

    fn domain(&self) -> Domain {
        Domain::new(
            self.deployment.chain_id,
            self.deployment.surety.certificate_verifier,
        )
    }

    /// Stake `operator` has allocated to Surety's set, as the real AllocationManager counts it.
    async fn allocated_stake(&self, operator: Address) -> U256 {
        let core = &self.deployment.eigenlayer;
        core.allocated_stake(&self.l1, self.deployment.surety.operator_set(), operator)
            .await
            .unwrap()
    }

    /// Rollup block `number` on top of `parent`, with a state root derived from `root_seed`.
    fn statement(&self, number: u64, parent: B256, root_seed: &str) -> Statement {
        Statement {
            rollup_id: self.rollup_id,
            block_number: number,
            block_hash: keccak256(format!("l2 block {number} on {parent}")),
            parent_hash: parent,
            state_root: keccak256(root_seed),
        }
    }

    fn sign(&self, operator: usize, statement: &Statement) -> Signature {
        let root = statement.signing_root(&self.domain());
        self.operators[operator].key.sign(&root.0)
    }

    /// A proof at the latest-but-one block whose aggregate signature comes from `signers`,
    /// against an operator set of `signers` and `non_signers` (normally everyone).
    async fn proof(
        &self,
        statement: &Statement,
        signers: &[usize],
        non_signers: &[usize],
    ) -> SignerProof {
        let reference = u32::try_from(self.l1.get_block_number().await.unwrap() - 1).unwrap();
        let key = |&i: &usize| self.operators[i].key.public_key();
        let signed: Vec<(PublicKey, Signature)> = signers
            .iter()
            .map(|i| (key(i), self.sign(*i, statement)))
            .collect();
        let active: Vec<PublicKey> = signers.iter().chain(non_signers).map(key).collect();
        signer_proof(
            &self.l1,
            self.deployment.surety.operator_registry,
            reference,
            &signed,
            &active,
        )
        .await
        .unwrap()
    }

    /// Each of `reporters` signs a report of `mismatch`; the proof aggregates them against every
    /// operator, at the latest-but-one block.
    async fn alert_proof(&self, mismatch: &Mismatch, reporters: &[usize]) -> SignerProof {
        let root = mismatch.signing_root(&self.domain());
        let reports: Vec<MismatchReport> = reporters
            .iter()
            .map(|&i| MismatchReport {
                mismatch: *mismatch,
                public_key: self.operators[i].key.public_key(),
                signature: self.operators[i].key.sign(&root.0),
            })
            .collect();
        assert!(reports.iter().all(|r| r.verify(&self.domain())));
        let signed: Vec<(PublicKey, Signature)> = reports
            .iter()
            .map(|r| (r.public_key, r.signature))
            .collect();
        let active: Vec<PublicKey> = self
            .operators
            .iter()
            .map(|op| op.key.public_key())
            .collect();
        let reference = u32::try_from(self.l1.get_block_number().await.unwrap() - 1).unwrap();
        signer_proof(
            &self.l1,
            self.deployment.surety.operator_registry,
            reference,
            &signed,
            &active,
        )
        .await
        .unwrap()
    }

    async fn status(&self) -> RollupStatus {
        let raw = self
            .verifier()
            .rollupStatus(self.rollup_id)
            .call()
            .await
            .unwrap();
        RollupStatus::try_from(raw).unwrap()
    }

    async fn is_final(&self, s: &Statement) -> bool {
        self.verifier()
            .isFinal(s.rollup_id, s.block_number, s.block_hash, s.state_root)
            .call()
            .await
            .unwrap()
    }

    /// The rollup's latest certified block.
    async fn certified_head(&self) -> u64 {
        self.verifier()
            .latestCertifiedBlock(self.rollup_id)
            .call()
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn certificates_need_valid_signatures_from_a_stake_quorum() {
    let devnet = Devnet::start().await;
    let verifier = devnet.verifier();
    let total: U256 = devnet.operators.iter().map(|op| op.stake).sum();

    // Block 1, signed by everyone. What Rust signs is what the contract verifies.
    let first = devnet.statement(1, devnet.genesis_hash, "l2 root 1");
    assert_eq!(
        verifier.signingRoot(first.into()).call().await.unwrap(),
        first.signing_root(&devnet.domain())
    );
    let proof = devnet.proof(&first, &[0, 1, 2, 3], &[]).await;
    let reference = proof.referenceBlock;
    let receipt = mined(verifier.submitCertificate(first.into(), proof.clone())).await;
    let submitted = receipt
        .decoded_log::<CertificateVerifier::CertificateSubmitted>()
        .unwrap();
    assert_eq!(submitted.signedStake, total);
    assert_eq!(submitted.totalStake, total);
    let id = submitted.certificateId;
    assert_eq!(
        verifier.certificateId(first.into()).call().await.unwrap(),
        id
    );
    assert!(devnet.is_final(&first).await);
    assert!(
        !devnet
            .is_final(&Statement {
                state_root: keccak256("another root"),
                ..first
            })
            .await
    );
    assert!(
        !devnet
            .is_final(&Statement {
                block_hash: keccak256("another block"),
                ..first
            })
            .await
    );
    let certificate = verifier.getCertificate(id).call().await.unwrap();
    assert_eq!(certificate.referenceBlock, reference);
    assert_eq!(U256::from(certificate.signedStake), total);
    assert!(!certificate.faulty);
    assert_eq!(devnet.certified_head().await, 1);
    assert_eq!(
        verifier.nonSignersHash(id).call().await.unwrap(),
        B256::ZERO
    );

    // A racing aggregator's copy of the same certificate succeeds without recording anything.
    let again = mined(verifier.submitCertificate(first.into(), proof)).await;
    assert!(
        again
            .decoded_log::<CertificateVerifier::CertificateSubmitted>()
            .is_none()
    );
    assert_eq!(
        verifier.getCertificate(id).call().await.unwrap(),
        certificate
    );

    // Block 2 without operator 0 (10% of the stake): 90% signed, above the threshold.
    let second = devnet.statement(2, first.block_hash, "l2 root 2");
    let proof = devnet.proof(&second, &[1, 2, 3], &[0]).await;
    let receipt = mined(verifier.submitCertificate(second.into(), proof)).await;
    let submitted = receipt
        .decoded_log::<CertificateVerifier::CertificateSubmitted>()
        .unwrap();
    assert_eq!(submitted.signedStake, total - devnet.operators[0].stake);
    assert!(devnet.is_final(&second).await);
    // The slasher later needs exactly who did not sign.
    let absent = devnet.operators[0].key.public_key().key_hash();
    assert_eq!(
        verifier
            .nonSignersHash(submitted.certificateId)
            .call()
            .await
            .unwrap(),
        keccak256(absent)
    );
    assert_eq!(devnet.certified_head().await, 2);

    // Block 3: three of four operators sign, but without operator 3 only 60% of the stake does.
    let third = devnet.statement(3, second.block_hash, "l2 root 3");
    let proof = devnet.proof(&third, &[0, 1, 2], &[3]).await;
    let err = verifier
        .submitCertificate(third.into(), proof)
        .call()
        .await
        .unwrap_err();
    let Some(CertificateVerifier::CertificateVerifierErrors::BelowThreshold(below)) =
        err.as_decoded_interface_error()
    else {
        panic!("unexpected {err:?}")
    };
    assert_eq!(below.signedStake, total - devnet.operators[3].stake);
    assert_eq!(below.totalStake, total);
    assert_eq!(below.thresholdBps, THRESHOLD_BPS);

    // Claiming that an operator signed when it did not breaks the pairing.
    let proof = devnet.proof(&third, &[1, 2, 3], &[]).await;
    let err = verifier
        .submitCertificate(third.into(), proof)
        .call()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.as_decoded_interface_error(),
            Some(CertificateVerifier::CertificateVerifierErrors::InvalidSignature(_))
        ),
        "{err:?}"
    );
    assert!(!devnet.is_final(&third).await);
    assert_eq!(devnet.certified_head().await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn mismatch_reports_halt_the_rollup_until_its_source_settles_the_height() {
    let devnet = Devnet::start().await;
    let verifier = devnet.verifier();
    let bridge = ExampleBridge::new(
        deploy_example_bridge(
            &devnet.l1,
            devnet.deployment.surety.certificate_verifier,
            devnet.rollup_id,
        )
        .await
        .unwrap(),
        &devnet.l1,
    );
    let total: U256 = devnet.operators.iter().map(|op| op.stake).sum();
    let first = devnet.statement(1, devnet.genesis_hash, "l2 root 1");
    let proof = devnet.proof(&first, &[0, 1, 2, 3], &[]).await;
    mined(verifier.submitCertificate(first.into(), proof)).await;
    assert_eq!(devnet.status().await, RollupStatus::Active);
    assert!(!bridge.halted().call().await.unwrap());

    // The rollup claims one root for block 2; the operators' re-execution gives another.
    let claimed = devnet.statement(2, first.block_hash, "l2 root 2 as the rollup claims");
    let mismatch = Mismatch {
        rollup_id: devnet.rollup_id,
        block_number: 2,
        block_hash: claimed.block_hash,
        parent_hash: claimed.parent_hash,
        claimed_state_root: claimed.state_root,
        computed_state_root: keccak256("l2 root 2 as re-executed"),
    };
    // What Rust signs is what the contract verifies.
    assert_eq!(
        verifier.mismatchRoot(mismatch.into()).call().await.unwrap(),
        mismatch.signing_root(&devnet.domain())
    );

    // Operators 0 and 1 hold 30% of the stake, under the default third.
    let proof = devnet.alert_proof(&mismatch, &[0, 1]).await;
    let err = verifier
        .raiseAlert(mismatch.into(), proof)
        .call()
        .await
        .unwrap_err();
    let Some(CertificateVerifier::CertificateVerifierErrors::BelowAlertThreshold(below)) =
        err.as_decoded_interface_error()
    else {
        panic!("unexpected {err:?}")
    };
    assert_eq!(
        below.signedStake,
        devnet.operators[0].stake + devnet.operators[1].stake
    );
    assert_eq!(below.alertThresholdBps, 3_333);

    // Statement signatures on the claimed block are no alert, whoever signed them.
    let statement_proof = devnet.proof(&claimed, &[0, 1, 2, 3], &[]).await;
    let err = verifier
        .raiseAlert(mismatch.into(), statement_proof.clone())
        .call()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.as_decoded_interface_error(),
            Some(CertificateVerifier::CertificateVerifierErrors::InvalidSignature(_))
        ),
        "{err:?}"
    );

    // Operators 0 and 2 hold 40%: the alert lands and the rollup halts.
    let proof = devnet.alert_proof(&mismatch, &[0, 2]).await;
    let receipt = mined(verifier.raiseAlert(mismatch.into(), proof)).await;
    let raised = receipt
        .decoded_log::<CertificateVerifier::AlertRaised>()
        .unwrap();
    assert_eq!(
        (raised.rollupId, raised.blockNumber, raised.claimedStateRoot),
        (devnet.rollup_id, 2, mismatch.claimed_state_root)
    );
    assert_eq!(raised.computedStateRoot, mismatch.computed_state_root);
    assert_eq!(
        raised.signedStake,
        devnet.operators[0].stake + devnet.operators[2].stake
    );
    assert_eq!(raised.totalStake, total);
    assert_eq!(devnet.status().await, RollupStatus::Halted);
    assert!(bridge.halted().call().await.unwrap());
    let alert = verifier.alertOf(devnet.rollup_id).call().await.unwrap();
    assert_eq!(alert.blockNumber, 2);
    assert_eq!(alert.claimedStateRoot, mismatch.claimed_state_root);

    // Even everyone's signatures do not certify the alerted height now.
    let err = verifier
        .submitCertificate(claimed.into(), statement_proof)
        .call()
        .await
        .unwrap_err();
    let Some(CertificateVerifier::CertificateVerifierErrors::RollupHalted(halted)) =
        err.as_decoded_interface_error()
    else {
        panic!("unexpected {err:?}")
    };
    assert_eq!(halted.alertHeight, 2);

    // Nothing clears it before the source settles the height.
    let err = verifier
        .clearAlert(devnet.rollup_id)
        .call()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.as_decoded_interface_error(),
            Some(CertificateVerifier::CertificateVerifierErrors::HeightNotSettled(_))
        ),
        "{err:?}"
    );

    // The poster settles block 2 on the re-executed root: the reporters were right.
    let source = verifier.rootSource(devnet.rollup_id).call().await.unwrap();
    mined(PostedRootSource::new(source, &devnet.l1).post(2, mismatch.computed_state_root)).await;
    let receipt = mined(verifier.clearAlert(devnet.rollup_id)).await;
    let cleared = receipt
        .decoded_log::<CertificateVerifier::AlertCleared>()
        .unwrap();
    assert_eq!(
        (
            cleared.rollupId,
            cleared.blockNumber,
            cleared.settledStateRoot,
            cleared.confirmed
        ),
        (devnet.rollup_id, 2, mismatch.computed_state_root, true)
    );
    assert_eq!(devnet.status().await, RollupStatus::Active);
    assert!(!bridge.halted().call().await.unwrap());

    // The canonical block 2 certifies again.
    let canonical = Statement {
        state_root: mismatch.computed_state_root,
        ..claimed
    };
    let proof = devnet.proof(&canonical, &[0, 1, 2, 3], &[]).await;
    mined(verifier.submitCertificate(canonical.into(), proof)).await;
    assert!(devnet.is_final(&canonical).await);
    assert_eq!(devnet.certified_head().await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn double_signing_slashes_the_allocation_and_forfeits_collateral_once() {
    let devnet = Devnet::start().await;
    let surety = devnet.deployment.surety;
    let registry = devnet.registry();
    let pool = CompensationPool::new(surety.compensation_pool, &devnet.l1);
    let slasher = Slasher::new(surety.slasher, &devnet.l1);
    let culprit = &devnet.operators[1];
    let public_key: Bytes = culprit.key.public_key().to_eip2537().into();

    // Two different state roots for the same rollup block.
    let a = devnet.statement(1, devnet.genesis_hash, "l2 root 1");
    let b = Statement {
        state_root: keccak256("a conflicting root"),
        ..a
    };
    let (signature_a, signature_b): (Bytes, Bytes) = (
        devnet.sign(1, &a).to_eip2537().into(),
        devnet.sign(1, &b).to_eip2537().into(),
    );

    // Evidence whose second signature is another operator's is no evidence.
    let framed: Bytes = devnet.sign(2, &b).to_eip2537().into();
    let refusal = double_signing_refusal(&slasher, (a, &signature_a), (b, &framed), &public_key);
    assert!(matches!(
        refusal.await,
        Slasher::SlasherErrors::InvalidSignature(_)
    ));

    let collateral = SuretyParams::devnet().min_collateral_wei;
    let locked = pool.collateralOf(culprit.address).call().await.unwrap();
    assert_eq!((locked.amount, locked.locked), (collateral, true));
    let free_before = pool.freeBalance().call().await.unwrap();
    let collateral_before = pool.totalCollateral().call().await.unwrap();
    let balance_before = devnet
        .l1
        .get_balance(surety.compensation_pool)
        .await
        .unwrap();
    let total_before = registry.totalStake().call().await.unwrap();
    assert_eq!(devnet.allocated_stake(culprit.address).await, culprit.stake);

    let receipt = mined(slasher.proveDoubleSigning(
        a.into(),
        signature_a.clone(),
        b.into(),
        signature_b.clone(),
        public_key.clone(),
    ))
    .await;
    let proven = receipt
        .decoded_log::<Slasher::DoubleSigningProven>()
        .unwrap();
    assert_eq!(
        (proven.operator, proven.rollupId, proven.blockNumber),
        (culprit.address, devnet.rollup_id, 1)
    );
    let punished = receipt.decoded_log::<Slasher::OperatorPunished>().unwrap();
    assert_eq!(punished.operator, culprit.address);
    assert!(punished.slashed, "EigenLayer refused the slash");
    assert_eq!(punished.collateralForfeited, collateral);

    // EigenLayer took the whole allocation (slash WAD 1e18) and burned the delegated shares.
    let core = &devnet.deployment.eigenlayer;
    assert_eq!(devnet.allocated_stake(culprit.address).await, U256::ZERO);
    assert_eq!(
        core.operator_shares(&devnet.l1, culprit.address)
            .await
            .unwrap(),
        U256::ZERO
    );
    for (i, op) in devnet.operators.iter().enumerate().filter(|(i, _)| *i != 1) {
        assert_eq!(
            devnet.allocated_stake(op.address).await,
            op.stake,
            "operator {i}"
        );
    }
    // The registrar ejected the culprit from the operator set in the same transaction: EigenLayer
    // deregistered it and the registry took its key out of the aggregate key, with no stake.
    let ejected = receipt
        .decoded_log::<SuretyRegistrar::OperatorEjected>()
        .unwrap();
    assert_eq!(ejected.operator, culprit.address);
    assert!(!registry.isActive(culprit.address).call().await.unwrap());
    let stake = registry.stakeOf(culprit.address).call().await.unwrap();
    assert!(!stake.active);
    assert_eq!(stake.stake, U256::ZERO);
    assert_eq!(
        registry.totalStake().call().await.unwrap(),
        total_before - culprit.stake
    );
    // The collateral, already held by the pool, now backs claims instead of the operator.
    let forfeited = pool.collateralOf(culprit.address).call().await.unwrap();
    assert_eq!(forfeited.amount, U256::ZERO);
    assert_eq!(
        pool.totalCollateral().call().await.unwrap(),
        collateral_before - collateral
    );
    assert_eq!(
        pool.freeBalance().call().await.unwrap(),
        free_before + collateral
    );
    assert_eq!(
        devnet
            .l1
            .get_balance(surety.compensation_pool)
            .await
            .unwrap(),
        balance_before
    );

    // The same fault cannot be punished twice, whichever way round the evidence comes.
    for (first, second) in [
        ((a, &signature_a), (b, &signature_b)),
        ((b, &signature_b), (a, &signature_a)),
    ] {
        assert!(matches!(
            double_signing_refusal(&slasher, first, second, &public_key).await,
            Slasher::SlasherErrors::EvidenceUsed(_)
        ));
    }
}

/// The error `proveDoubleSigning` reverts with for this evidence.
async fn double_signing_refusal(
    slasher: &Slasher::SlasherInstance<&DynProvider>,
    (a, signature_a): (Statement, &Bytes),
    (b, signature_b): (Statement, &Bytes),
    public_key: &Bytes,
) -> Slasher::SlasherErrors {
    let err = slasher
        .proveDoubleSigning(
            a.into(),
            signature_a.clone(),
            b.into(),
            signature_b.clone(),
            public_key.clone(),
        )
        .call()
        .await
        .unwrap_err();
    err.as_decoded_interface_error()
        .unwrap_or_else(|| panic!("not a Slasher error: {err:?}"))
}
