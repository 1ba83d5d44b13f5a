// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice An operator's report that block `blockNumber` of rollup `rollupId` (hash `blockHash`,
///         parent `parentHash`) claims `claimedStateRoot` but re-executes to `computedStateRoot`.
///         Honest reporters of one block compute the same root, so they sign the same message and
///         their signatures aggregate. Field order is part of the signed bytes.
struct Mismatch {
    uint64 rollupId;
    uint64 blockNumber;
    bytes32 blockHash;
    bytes32 parentHash;
    bytes32 claimedStateRoot;
    bytes32 computedStateRoot;
}

/// @title MismatchLib
/// @notice The 32-byte message operators BLS-sign for a mismatch report (docs/protocol.md). Must
///         equal `surety_primitives::Mismatch::signing_root` byte for byte.
library MismatchLib {
    /// @dev keccak256("surety.mismatch.v1"): a report can never count toward a certificate's quorum
    ///      nor serve as double-signing evidence, and a certificate never raises an alert.
    bytes32 internal constant MISMATCH_TAG =
        0x80cf3b1058e237ca94525e042acb303745cfbf6f23bff6f53be2c336e7382f41;

    /// @notice keccak256(abi.encode(MISMATCH_TAG, chainId, verifier, rollupId, blockNumber,
    ///         blockHash, parentHash, claimedStateRoot, computedStateRoot)).
    function signingRoot(Mismatch memory m, uint256 chainId, address verifier)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                MISMATCH_TAG,
                chainId,
                verifier,
                m.rollupId,
                m.blockNumber,
                m.blockHash,
                m.parentHash,
                m.claimedStateRoot,
                m.computedStateRoot
            )
        );
    }
}
