// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS12381} from "../../src/libraries/BLS12381.sol";

/// @dev Real BLS12-381 keys and signatures made on-chain with the MSM precompiles, for fuzz and
///      invariant tests with random keys (byte equality with blst comes from the Rust fixtures).
library BLSKeys {
    bytes internal constant G2_GENERATOR = hex"00000000000000000000000000000000024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8"
        hex"0000000000000000000000000000000013e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e"
        hex"000000000000000000000000000000000ce5d527727d6e118cc9cdc6da2e351aadfd9baa8cbdd3a76d429a695160d12c923ac9cc3baca289e193548608b82801"
        hex"000000000000000000000000000000000606c4a02ea734cc32acd2b02bc28b99cb3e287e85a763af267492ab572e99ab3f370d275cec1da1aaa9075ff05f79be";

    /// @dev On E(Fp) (x = 4) but outside the order-r subgroup.
    bytes internal constant G1_NON_SUBGROUP = hex"00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000004"
        hex"000000000000000000000000000000000a989badd40d6212b33cffc3f3763e9bc760f988c9926b26da9dd85e928483446346b8ed00e1de5d5ea93e354abe706c";
    /// @dev On E'(Fp2) (x = 2) but outside the order-r subgroup.
    bytes internal constant G2_NON_SUBGROUP = hex"00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002"
        hex"00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        hex"0000000000000000000000000000000018c6b864ae17dc9da64203ffefb966306425a7bc6aeb7c75247438372716284a4173830420cd476ba1a365b95bfcec38"
        hex"00000000000000000000000000000000172e93db764a8400a7d5071b6b6f5de0da2f0f4a063119abca014006b7c40a2cfe291a1924e65db0d6d0fcfbf3bf3d5c";

    /// @dev Group order r.
    uint256 internal constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;

    bytes internal constant SIG_DST = "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";
    bytes internal constant POP_DST = "BLS_POP_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";

    /// @dev A valid secret key (1 ≤ sk < r) derived from any seed.
    function secretKey(uint256 seed) internal pure returns (uint256) {
        return 1 + uint256(keccak256(abi.encode(seed))) % (R - 1);
    }

    function publicKey(uint256 sk) internal view returns (bytes memory pk) {
        (bool ok, bytes memory out) = address(0x0e).staticcall(abi.encodePacked(G2_GENERATOR, sk));
        require(ok && out.length == 256, "G2MSM");
        return out;
    }

    function mul(bytes memory g1, uint256 scalar) internal view returns (bytes memory) {
        (bool ok, bytes memory out) = address(0x0c).staticcall(abi.encodePacked(g1, scalar));
        require(ok && out.length == 128, "G1MSM");
        return out;
    }

    function sign(uint256 sk, bytes32 message) internal view returns (bytes memory) {
        return mul(BLS12381.hashToG1(abi.encodePacked(message), SIG_DST), sk);
    }

    function popFor(uint256 sk, bytes32 popMessage) internal view returns (bytes memory) {
        return mul(BLS12381.hashToG1(abi.encodePacked(popMessage), POP_DST), sk);
    }
}
