// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title HeaderLib
/// @notice Reads an Ethereum block header's RLP encoding just far enough to link it to its parent
///         and to its state root. A header is the list `[parentHash, ommersHash, beneficiary,
///         stateRoot, …]`; its first four fields have fixed sizes, so they sit at fixed offsets
///         after the list prefix (docs/protocol.md, "Finality of covered blocks").
/// @dev Nothing here trusts the bytes: callers compare `keccak256(header)` with a hash they
///      already trust, which only the real header can match.
library HeaderLib {
    /// @notice `parentHash` and `stateRoot` of an RLP-encoded header; `ok` is false when the bytes
    ///         do not have a header's shape (a list whose length prefix matches the input and
    ///         whose first fields have the sizes Ethereum gives them).
    function read(bytes calldata header)
        internal
        pure
        returns (bool ok, bytes32 parentHash, bytes32 stateRoot)
    {
        if (header.length < 2) return (false, 0, 0);
        uint256 prefix = uint8(header[0]);
        uint256 start;
        uint256 length;
        if (prefix >= 0xf8) {
            // Long list: the next `prefix - 0xf7` bytes hold the payload length, big-endian.
            uint256 lengthBytes = prefix - 0xf7;
            if (lengthBytes > 3 || header.length < 1 + lengthBytes) return (false, 0, 0);
            for (uint256 i = 1; i <= lengthBytes; ++i) {
                length = (length << 8) | uint8(header[i]);
            }
            start = 1 + lengthBytes;
        } else if (prefix >= 0xc0) {
            start = 1;
            length = prefix - 0xc0;
        } else {
            return (false, 0, 0);
        }
        // parentHash (0xa0 + 32) ‖ ommersHash (0xa0 + 32) ‖ beneficiary (0x94 + 20) ‖ stateRoot (0xa0 + 32).
        if (header.length != start + length || length < 120) return (false, 0, 0);
        if (
            uint8(header[start]) != 0xa0 || uint8(header[start + 33]) != 0xa0
                || uint8(header[start + 66]) != 0x94 || uint8(header[start + 87]) != 0xa0
        ) return (false, 0, 0);
        parentHash = bytes32(header[start + 1:start + 33]);
        stateRoot = bytes32(header[start + 88:start + 120]);
        return (true, parentHash, stateRoot);
    }

    /// @notice Hash and state root of the last of `headers`, when each header is the parent of the
    ///         next; `ok` is false for an empty list, a broken link or a malformed header.
    function tip(bytes[] calldata headers) internal pure returns (bool ok, bytes32 hash, bytes32 stateRoot) {
        bytes32 parentHash;
        for (uint256 i = 0; i < headers.length; ++i) {
            (ok, parentHash, stateRoot) = read(headers[i]);
            if (!ok || (i > 0 && parentHash != hash)) return (false, 0, 0);
            hash = keccak256(headers[i]);
        }
    }
}
