// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title ICanonicalRootSource
/// @notice Adapter through which a rollup's canonical state roots become known on L1 (its settled
///         output root, a validity proof, or a fault-proof result). Surety judges invalid-root
///         accusations against it, so it must only report a root once it is final.
interface ICanonicalRootSource {
    /// @return settled whether the canonical state root of L2 block `blockNumber` is known
    /// @return stateRoot that root (meaningful only when `settled`)
    function canonicalStateRoot(uint64 blockNumber) external view returns (bool settled, bytes32 stateRoot);
}
