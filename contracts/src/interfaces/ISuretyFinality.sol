// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {RollupStatus} from "../RollupRegistry.sol";

/// @title ISuretyFinality
/// @notice The views of `CertificateVerifier` an app needs to act on Surety's finality.
interface ISuretyFinality {
    /// @notice Whether a certificate for exactly this block and root is recorded and not proven wrong.
    function isFinal(uint64 rollupId, uint64 blockNumber, bytes32 blockHash, bytes32 stateRoot)
        external
        view
        returns (bool);

    /// @notice Whether this block is certified or an ancestor of a certified block, shown by
    ///         `headers`: the RLP headers from this block up to the certified one, in order.
    function isFinalAncestor(
        uint64 rollupId,
        uint64 blockNumber,
        bytes32 blockHash,
        bytes32 stateRoot,
        bytes[] calldata headers
    ) external view returns (bool);

    /// @notice `Halted` while a circuit-breaker alert stands on the rollup: apps should pause.
    function rollupStatus(uint64 rollupId) external view returns (RollupStatus);
}
