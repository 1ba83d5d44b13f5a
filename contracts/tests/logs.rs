//! Log scans over ranges longer than one `eth_getLogs` chunk, on a real anvil: every event is
//! found once, whichever chunk it falls in.

mod common;

use alloy::{
    primitives::B256,
    providers::{Provider, WalletProvider, ext::AnvilApi},
    rpc::types::Filter,
    sol_types::SolEvent,
};
use common::{account, spawn_l1};
use surety_contracts::{
    bindings::PostedRootSource,
    deploy_posted_root_source,
    logs::{logs_in_chunks, logs_since},
    send,
};

#[tokio::test(flavor = "multi_thread")]
async fn events_across_chunks_are_each_found_once() {
    let anvil = spawn_l1();
    let poster = account(&anvil, 0);
    let source = deploy_posted_root_source(&poster, poster.default_signer_address())
        .await
        .unwrap();
    let contract = PostedRootSource::new(source, &poster);
    const CHUNK: u64 = 10;
    let mut posted_at = Vec::new();
    // Heights 1..=3, with the chain pushed across chunk boundaries in between.
    for height in 1..=3u64 {
        let receipt = send(
            "post a root",
            contract.post(height, B256::repeat_byte(height as u8)),
        )
        .await
        .unwrap();
        posted_at.push(receipt.block_number.unwrap());
        poster.anvil_mine(Some(CHUNK + 7), None).await.unwrap();
    }
    let filter = Filter::new()
        .address(source)
        .event_signature(PostedRootSource::RootPosted::SIGNATURE_HASH);

    let latest = poster.get_block_number().await.unwrap();
    assert!(latest > 3 * CHUNK, "the scan crosses chunks: {latest}");
    for chunk in [1, 3, CHUNK, latest + 1] {
        let found = logs_in_chunks(&poster, &filter, 0, latest, chunk)
            .await
            .unwrap();
        let blocks: Vec<u64> = found.iter().map(|l| l.block_number.unwrap()).collect();
        assert_eq!(blocks, posted_at, "chunks of {chunk}");
    }
    assert_eq!(logs_since(&poster, &filter, 0).await.unwrap().len(), 3);

    // A range that starts and ends inside chunks sees exactly what lies in it.
    let middle = logs_in_chunks(&poster, &filter, posted_at[0] + 1, posted_at[2] - 1, CHUNK)
        .await
        .unwrap();
    assert_eq!(middle.len(), 1);
    assert_eq!(middle[0].block_number, Some(posted_at[1]));
}
