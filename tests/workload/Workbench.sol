// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.30;

/// Storage-, log- and compute-heavy entry points for the workload generator. It is also the code
/// EIP-7702 authorities delegate to, where it runs on the authority's own storage.
contract Workbench {
    mapping(uint256 => uint256) public slots;

    event Poked(address indexed caller, uint256 indexed key, uint256 value);
    event Precompile(address indexed target, bytes32 outputHash);

    error Failed(uint256 code);

    receive() external payable {}

    /// Set `count` consecutive slots to `value` (fresh slots cost 20k gas each).
    function fill(uint256 start, uint256 count, uint256 value) external {
        for (uint256 i; i < count; ++i) {
            slots[start + i] = value;
        }
    }

    /// Zero `count` consecutive slots (earns refunds).
    function clear(uint256 start, uint256 count) external {
        for (uint256 i; i < count; ++i) {
            delete slots[start + i];
        }
    }

    function poke(uint256 key, uint256 value) external payable {
        slots[key] = value;
        emit Poked(msg.sender, key, value);
    }

    /// Emit `count` logs cycling through LOG0..LOG4 with `data` as payload.
    function logs(uint256 count, bytes calldata data) external {
        bytes memory payload = data;
        for (uint256 i; i < count; ++i) {
            uint256 len = payload.length;
            uint256 kind = i % 5;
            assembly ("memory-safe") {
                let ptr := add(payload, 0x20)
                switch kind
                case 0 { log0(ptr, len) }
                case 1 { log1(ptr, len, i) }
                case 2 { log2(ptr, len, i, caller()) }
                case 3 { log3(ptr, len, i, caller(), len) }
                default { log4(ptr, len, i, caller(), len, kind) }
            }
        }
    }

    /// Revert: with a custom error for odd codes, with a reason string for even ones.
    function fail(uint256 code) external pure {
        if (code % 2 == 1) revert Failed(code);
        revert("workbench: failed");
    }

    /// Set `count` consecutive slots to `value`, then revert: every write is undone, but the
    /// slots were loaded (the case where a re-executor's view of "touched" state matters).
    function fillThenFail(uint256 start, uint256 count, uint256 value) external {
        for (uint256 i; i < count; ++i) {
            slots[start + i] = value;
        }
        revert Failed(count);
    }

    /// Hash in a loop: compute-heavy, or out of gas when given too little.
    function burn(uint256 rounds) external returns (bytes32 h) {
        for (uint256 i; i < rounds; ++i) {
            h = keccak256(abi.encode(h, i));
        }
        slots[uint256(h) % 64] = uint256(h);
    }

    /// STATICCALL a precompile; reverts if it fails.
    function callPrecompile(address target, bytes calldata input) external {
        (bool ok, bytes memory out) = target.staticcall(input);
        if (!ok) revert Failed(uint160(target));
        emit Precompile(target, keccak256(out));
    }
}
