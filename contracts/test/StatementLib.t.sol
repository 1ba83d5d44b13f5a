// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Statement, StatementLib} from "../src/libraries/StatementLib.sol";

/// @dev The few Foundry cheatcodes these tests use (the project vendors no forge-std).
interface StatementFixtureCheats {
    function readFile(string calldata path) external view returns (string memory);
    function parseJsonUint(string calldata json, string calldata key) external pure returns (uint256);
    function parseJsonAddress(string calldata json, string calldata key) external pure returns (address);
    function parseJsonBytes32(string calldata json, string calldata key) external pure returns (bytes32);
    function parseJsonBytes(string calldata json, string calldata key) external pure returns (bytes memory);
    function toString(uint256 value) external pure returns (string memory);
    function toString(bytes32 value) external pure returns (string memory);
    function toString(address value) external pure returns (string memory);
}

/// @notice Cross-language agreement of the signing root, in both directions:
///         - `statement_vectors.json` is written by Rust (`cargo run -p surety-primitives --example
///           gen-fixtures`) and every root in it must be what Solidity computes;
///         - `statement_vectors_sol.json` must be exactly what Solidity computes for inputs derived
///           here, and a Rust test checks Rust computes the same roots from that file.
contract StatementLibTest {
    StatementFixtureCheats private constant vm =
        StatementFixtureCheats(address(uint160(uint256(keccak256("hevm cheat code")))));

    string private constant RUST_VECTORS = "test/fixtures/statement_vectors.json";
    string private constant SOL_VECTORS = "test/fixtures/statement_vectors_sol.json";
    uint256 private constant SOL_VECTOR_COUNT = 16;

    function test_domainTagIsKeccakOfItsName() public pure {
        require(StatementLib.DOMAIN_TAG == keccak256("surety.statement.v1"), "DOMAIN_TAG");
    }

    function test_rustVectors() public view {
        string memory json = vm.readFile(RUST_VECTORS);
        uint256 count = vm.parseJsonUint(json, ".count");
        require(count >= 16, "too few vectors");
        for (uint256 i; i < count; ++i) {
            string memory p = string.concat(".vectors[", vm.toString(i), "]");
            Statement memory s = Statement({
                rollupId: uint64(vm.parseJsonUint(json, string.concat(p, ".statement.rollupId"))),
                blockNumber: uint64(vm.parseJsonUint(json, string.concat(p, ".statement.blockNumber"))),
                blockHash: vm.parseJsonBytes32(json, string.concat(p, ".statement.blockHash")),
                parentHash: vm.parseJsonBytes32(json, string.concat(p, ".statement.parentHash")),
                stateRoot: vm.parseJsonBytes32(json, string.concat(p, ".statement.stateRoot"))
            });
            uint256 chainId = vm.parseJsonUint(json, string.concat(p, ".domain.l1ChainId"));
            address verifier = vm.parseJsonAddress(json, string.concat(p, ".domain.verifier"));
            bytes memory encoded = vm.parseJsonBytes(json, string.concat(p, ".encoded"));
            bytes32 expected = vm.parseJsonBytes32(json, string.concat(p, ".signingRoot"));

            require(
                keccak256(encoded)
                    == keccak256(
                        abi.encode(
                            StatementLib.DOMAIN_TAG,
                            chainId,
                            verifier,
                            s.rollupId,
                            s.blockNumber,
                            s.blockHash,
                            s.parentHash,
                            s.stateRoot
                        )
                    ),
                string.concat("encoding mismatch at ", p)
            );
            require(
                StatementLib.signingRoot(s, chainId, verifier) == expected,
                string.concat("root mismatch at ", p)
            );
        }
    }

    /// @dev On mismatch the revert reason is the file Solidity expects; paste it to regenerate.
    function test_solidityVectorsFile() public view {
        string memory expected = _solidityVectors();
        string memory actual = vm.readFile(SOL_VECTORS);
        require(keccak256(bytes(actual)) == keccak256(bytes(expected)), expected);
    }

    function test_signingRootDependsOnEveryInput() public pure {
        Statement memory s = Statement(1, 2, bytes32(uint256(3)), bytes32(uint256(4)), bytes32(uint256(5)));
        bytes32 base = StatementLib.signingRoot(s, 1, address(0xbeef));
        require(StatementLib.signingRoot(s, 2, address(0xbeef)) != base, "chainId");
        require(StatementLib.signingRoot(s, 1, address(0xbeee)) != base, "verifier");
        s.rollupId = 9;
        require(StatementLib.signingRoot(s, 1, address(0xbeef)) != base, "rollupId");
        s.rollupId = 1;
        s.blockNumber = 9;
        require(StatementLib.signingRoot(s, 1, address(0xbeef)) != base, "blockNumber");
        s.blockNumber = 2;
        s.blockHash = 0;
        require(StatementLib.signingRoot(s, 1, address(0xbeef)) != base, "blockHash");
        s.blockHash = bytes32(uint256(3));
        s.parentHash = 0;
        require(StatementLib.signingRoot(s, 1, address(0xbeef)) != base, "parentHash");
        s.parentHash = bytes32(uint256(4));
        s.stateRoot = 0;
        require(StatementLib.signingRoot(s, 1, address(0xbeef)) != base, "stateRoot");
    }

    function testFuzz_signingRootIsKeccakOfAbiEncode(Statement memory s, uint256 chainId, address verifier)
        public
        pure
    {
        bytes32 expected = keccak256(
            abi.encode(
                bytes32(0x8d30639047c7c73473510ec24db233ae3780436164c3ab1b2aab04bca2e29aca),
                chainId,
                verifier,
                s.rollupId,
                s.blockNumber,
                s.blockHash,
                s.parentHash,
                s.stateRoot
            )
        );
        require(StatementLib.signingRoot(s, chainId, verifier) == expected, "root");
    }

    /// @dev Inputs derived from keccak so they are independent of the Rust generator.
    function _solidityVectors() private pure returns (string memory json) {
        json = string.concat(
            "{\n  \"description\": \"Statement signing roots computed by StatementLib (Solidity); checked by Rust.\",\n",
            "  \"count\": ",
            vm.toString(SOL_VECTOR_COUNT),
            ",\n  \"vectors\": ["
        );
        for (uint256 i; i < SOL_VECTOR_COUNT; ++i) {
            bytes32 seed = keccak256(abi.encode("surety.sol.statement", i));
            Statement memory s = Statement({
                rollupId: uint64(uint256(seed)),
                blockNumber: uint64(uint256(seed) >> 64),
                blockHash: keccak256(abi.encode(seed, 1)),
                parentHash: keccak256(abi.encode(seed, 2)),
                stateRoot: keccak256(abi.encode(seed, 3))
            });
            uint256 chainId = uint64(uint256(seed) >> 128);
            address verifier = address(bytes20(keccak256(abi.encode(seed, 4))));
            json = string.concat(
                json,
                i == 0 ? "\n" : ",\n",
                _vectorJson(s, chainId, verifier, StatementLib.signingRoot(s, chainId, verifier))
            );
        }
        json = string.concat(json, "\n  ]\n}\n");
    }

    function _vectorJson(Statement memory s, uint256 chainId, address verifier, bytes32 root)
        private
        pure
        returns (string memory)
    {
        string memory statement = string.concat(
            "{\"rollupId\": \"",
            vm.toString(s.rollupId),
            "\", \"blockNumber\": \"",
            vm.toString(s.blockNumber),
            "\", \"blockHash\": \"",
            vm.toString(s.blockHash),
            "\", \"parentHash\": \"",
            vm.toString(s.parentHash),
            "\", \"stateRoot\": \"",
            vm.toString(s.stateRoot),
            "\"}"
        );
        return string.concat(
            "    {\"statement\": ",
            statement,
            ", \"domain\": {\"l1ChainId\": \"",
            vm.toString(chainId),
            "\", \"verifier\": \"",
            vm.toString(verifier),
            "\"}, \"signingRoot\": \"",
            vm.toString(root),
            "\"}"
        );
    }
}
