//! What the node reads from L1 before it signs anything: the signing domain, and the rollup's
//! registered genesis, which its own computed genesis must equal.

use alloy::providers::{Provider, RootProvider};
use alloy_primitives::{Address, B256};
use surety_contracts::bindings::{CertificateVerifier, OperatorRegistry};
use surety_primitives::Domain;

use super::{GenesisMismatch, NodeError, stake::Registration};
use crate::state::StoredHeader;

/// A rollup as the `CertificateVerifier` registered it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RegisteredRollup {
    pub(crate) genesis_hash: B256,
    pub(crate) genesis_root: B256,
    pub(crate) certified_head: u64,
}

/// The L1 view of one deployment.
#[derive(Debug, Clone)]
pub(crate) struct L1 {
    provider: RootProvider,
    verifier: Address,
}

impl L1 {
    pub(crate) fn connect(rpc: &str, verifier: Address) -> Result<Self, NodeError> {
        let url = rpc
            .parse()
            .map_err(|_| NodeError::Config(format!("invalid L1 RPC URL {rpc}")))?;
        Ok(Self {
            provider: RootProvider::new_http(url),
            verifier,
        })
    }

    /// The domain every signature of this node is bound to.
    pub(crate) async fn domain(&self) -> Result<Domain, NodeError> {
        let chain_id = self.provider.get_chain_id().await.map_err(NodeError::l1)?;
        let code = self
            .provider
            .get_code_at(self.verifier)
            .await
            .map_err(NodeError::l1)?;
        if code.is_empty() {
            return Err(NodeError::Config(format!(
                "no CertificateVerifier at {} on L1 chain {chain_id}",
                self.verifier
            )));
        }
        Ok(Domain::new(chain_id, self.verifier))
    }

    pub(crate) async fn rollup(&self, rollup_id: u64) -> Result<RegisteredRollup, NodeError> {
        let verifier = CertificateVerifier::new(self.verifier, &self.provider);
        let rollup = verifier
            .getRollup(rollup_id)
            .call()
            .await
            .map_err(|e| NodeError::L1(e.to_string()))?;
        if rollup.chainId == 0 {
            return Err(NodeError::Config(format!(
                "rollup {rollup_id} is not registered with the CertificateVerifier at {}",
                self.verifier
            )));
        }
        let certified_head = verifier
            .latestCertifiedBlock(rollup_id)
            .call()
            .await
            .map_err(|e| NodeError::L1(e.to_string()))?;
        Ok(RegisteredRollup {
            genesis_hash: rollup.genesisBlockHash,
            genesis_root: rollup.genesisStateRoot,
            certified_head,
        })
    }

    /// Who registered `key_hash` with the `OperatorRegistry`, and that operator's stake.
    pub(crate) async fn registration(&self, key_hash: B256) -> Result<Registration, NodeError> {
        let verifier = CertificateVerifier::new(self.verifier, &self.provider);
        let l1 = |e: alloy::contract::Error| NodeError::L1(e.to_string());
        let registry = OperatorRegistry::new(
            verifier.registry().call().await.map_err(l1)?,
            &self.provider,
        );
        let operator = registry.operatorOf(key_hash).call().await.map_err(l1)?;
        if operator == Address::ZERO {
            return Ok(Registration::Unregistered);
        }
        let stake = registry.stakeOf(operator).call().await.map_err(l1)?;
        Ok(Registration::Registered {
            active: stake.active,
            stake: stake.stake,
        })
    }
}

impl L1 {
    /// The highest block of `rollup_id` with a certificate on L1.
    pub(crate) async fn certified_head(&self, rollup_id: u64) -> Result<u64, NodeError> {
        CertificateVerifier::new(self.verifier, &self.provider)
            .latestCertifiedBlock(rollup_id)
            .call()
            .await
            .map_err(|e| NodeError::L1(e.to_string()))
    }
}

/// Refuses a locally computed genesis that differs from the registered one: a wrong genesis
/// file would make every honest block look like a lie.
pub(crate) fn check_genesis(
    rollup_id: u64,
    local: &StoredHeader,
    registered: &RegisteredRollup,
) -> Result<(), NodeError> {
    if local.hash != registered.genesis_hash || local.state_root != registered.genesis_root {
        return Err(NodeError::GenesisMismatch(Box::new(GenesisMismatch {
            rollup_id,
            local_hash: local.hash,
            local_root: local.state_root,
            registered_hash: registered.genesis_hash,
            registered_root: registered.genesis_root,
        })));
    }
    Ok(())
}
