// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

contract Probe {
    function g1add(bytes calldata input) external view returns (bytes memory out) {
        (bool ok, bytes memory r) = address(0x0b).staticcall(input);
        require(ok, "g1add");
        return r;
    }
}
