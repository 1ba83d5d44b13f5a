// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ICanonicalRootSource} from "../../src/interfaces/ICanonicalRootSource.sol";

/// @dev A canonical-root source whose settled roots the test sets.
contract MockRootSource is ICanonicalRootSource {
    mapping(uint64 blockNumber => bytes32) public roots;

    function settle(uint64 blockNumber, bytes32 root) external {
        roots[blockNumber] = root;
    }

    function canonicalStateRoot(uint64 blockNumber) external view returns (bool, bytes32) {
        bytes32 root = roots[blockNumber];
        return (root != bytes32(0), root);
    }
}
