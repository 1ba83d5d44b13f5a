// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice An operator's claim that block `blockNumber` of rollup `rollupId`, with hash `blockHash`
///         and parent `parentHash`, yields `stateRoot`. Field order is part of the signed bytes.
struct Statement {
    uint64 rollupId;
    uint64 blockNumber;
    bytes32 blockHash;
    bytes32 parentHash;
    bytes32 stateRoot;
}

/// @title StatementLib
/// @notice The 32-byte message operators BLS-sign for a statement (docs/protocol.md). Must equal
///         `surety_primitives::Statement::signing_root` byte for byte.
library StatementLib {
    /// @dev keccak256("surety.statement.v1"): keeps statement signatures apart from every other
    ///      message type Surety keys sign.
    bytes32 internal constant DOMAIN_TAG = 0x8d30639047c7c73473510ec24db233ae3780436164c3ab1b2aab04bca2e29aca;

    /// @notice keccak256(abi.encode(DOMAIN_TAG, chainId, verifier, rollupId, blockNumber, blockHash,
    ///         parentHash, stateRoot)). Binding chain id and verifier stops cross-chain and
    ///         cross-deployment replay.
    function signingRoot(Statement memory s, uint256 chainId, address verifier)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                DOMAIN_TAG,
                chainId,
                verifier,
                s.rollupId,
                s.blockNumber,
                s.blockHash,
                s.parentHash,
                s.stateRoot
            )
        );
    }
}
