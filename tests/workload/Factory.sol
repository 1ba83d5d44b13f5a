// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.30;

contract Child {
    uint256 public immutable seed;
    uint256 public value;

    constructor(uint256 s) payable {
        seed = s;
        value = s;
    }

    /// Since Cancun this only deletes the account when called in the transaction that created it.
    function destroy(address payable to) external {
        selfdestruct(to);
    }
}

/// Contract creation from contracts: CREATE, CREATE2, and create-then-selfdestruct in one call.
contract Factory {
    event Created(address indexed child, bool create2);

    function create(uint256 s) external payable returns (address child) {
        child = address(new Child{value: msg.value}(s));
        emit Created(child, false);
    }

    /// Reverts when `salt` was used before (the address is taken).
    function create2(bytes32 salt, uint256 s) external payable returns (address child) {
        child = address(new Child{salt: salt, value: msg.value}(s));
        emit Created(child, true);
    }

    function createAndDestroy(uint256 s) external payable {
        Child child = new Child{value: msg.value}(s);
        child.destroy(payable(msg.sender));
    }
}
