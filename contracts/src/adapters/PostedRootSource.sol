// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ICanonicalRootSource} from "../interfaces/ICanonicalRootSource.sol";

/// @title PostedRootSource
/// @notice The simplest canonical-root source: a trusted poster (e.g. the rollup's settlement
///         bridge relayer, or the devnet) posts final state roots. A posted root never changes, so
///         accusations judged against it stay judged. Rollups with on-chain settlement should use an
///         adapter over their output oracle or proof system instead.
contract PostedRootSource is ICanonicalRootSource {
    address public immutable poster;
    mapping(uint64 blockNumber => bytes32) private roots;

    event RootPosted(uint64 indexed blockNumber, bytes32 stateRoot);

    error Unauthorized();
    error ZeroRoot();
    error AlreadyPosted(uint64 blockNumber);

    constructor(address poster_) {
        poster = poster_;
    }

    function post(uint64 blockNumber, bytes32 stateRoot) external {
        if (msg.sender != poster) revert Unauthorized();
        if (stateRoot == bytes32(0)) revert ZeroRoot();
        if (roots[blockNumber] != bytes32(0)) revert AlreadyPosted(blockNumber);
        roots[blockNumber] = stateRoot;
        emit RootPosted(blockNumber, stateRoot);
    }

    function canonicalStateRoot(uint64 blockNumber) external view returns (bool settled, bytes32 stateRoot) {
        stateRoot = roots[blockNumber];
        settled = stateRoot != bytes32(0);
    }
}
