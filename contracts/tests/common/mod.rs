//! Harness shared by the integration tests: a real anvil (Prague) per test, killed on drop, and
//! wallet-backed providers for its dev accounts.

// Each test binary uses its own subset of the harness.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use alloy::{
    network::EthereumWallet,
    node_bindings::{Anvil, AnvilInstance},
    providers::{Provider, ProviderBuilder, WalletProvider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};

/// The project-pinned anvil (`make tools`), or whatever `anvil` is on `$PATH`.
pub(crate) fn anvil_binary() -> PathBuf {
    let pinned = Path::new(env!("CARGO_MANIFEST_DIR")).join("../node_modules/.bin/anvil");
    if pinned.exists() {
        pinned
    } else {
        PathBuf::from("anvil")
    }
}

/// A fresh Prague L1 on a free port; the process dies with the value.
pub(crate) fn spawn_l1() -> AnvilInstance {
    Anvil::new().path(anvil_binary()).prague().spawn()
}

/// A provider that signs with anvil's dev account `index` (it borrows nothing from `anvil`).
pub(crate) fn account(
    anvil: &AnvilInstance,
    index: usize,
) -> impl Provider + WalletProvider + Clone + use<> {
    let signer = PrivateKeySigner::from(anvil.keys()[index].clone());
    // Not the recommended fillers: their cached nonce is taken even when gas estimation then
    // reverts, so a test that expects a revert would leave a nonce gap and the account's next
    // transaction would wait forever. Asking the node every time cannot drift.
    ProviderBuilder::new()
        .disable_recommended_fillers()
        .with_gas_estimation()
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(EthereumWallet::from(signer))
        .connect_http(anvil.endpoint_url())
}

/// Mines `blocks` empty blocks.
pub(crate) async fn mine(provider: &impl Provider, blocks: u64) {
    provider
        .anvil_mine(Some(blocks), None)
        .await
        .expect("anvil_mine");
}
