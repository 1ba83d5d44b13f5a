// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Statement} from "../src/libraries/StatementLib.sol";
import {Mismatch} from "../src/libraries/MismatchLib.sol";
import {CertificateVerifier, SignerProof} from "../src/CertificateVerifier.sol";
import {SuretyTestBase} from "./utils/SuretyTestBase.sol";
import {vm} from "./utils/Vm.sol";

/// @dev A non-static call that costs almost nothing and touches nothing Surety uses.
contract GasProbe {
    function poke() external payable {}
}

/// @notice Gas of certificate verification (`checkSignatures`) and of the whole `submitCertificate`
///         transaction with 0, 1 and 10 non-signers among 32 operators. Print the figures with
///         `forge test --match-contract GasTest -vv` (or read the `--gas-report` table: there
///         `submitCertificate` runs as its own transaction, so its figures are whole-tx gas). Proofs are built in setUp, so every Surety
///         contract and storage slot is cold in the measured call, as in a real transaction; the
///         rollup already has a certified head (steady state). Anchor: EigenLayer's BN254
///         checkSignatures costs 159,908 / 178,683 / 197,410 gas for 0 / 1 / 2 non-signers.
///         `raiseAlert` (circuit breaker, same verification over a mismatch report) is measured the
///         same way at 0 non-signers, on the height above the head.
contract GasTest is SuretyTestBase {
    event log_named_uint(string key, uint256 val);

    Statement internal statement;
    bytes32 internal message;
    mapping(uint256 nonSigners => SignerProof) internal proofs;
    GasProbe internal probe;
    Mismatch internal mismatch;
    SignerProof internal alertProof;

    function setUp() public {
        _deploy();
        _addOperators(32, 32 ether);
        vm.roll(block.number + 1);
        Statement memory first = _statement(1, GENESIS_HASH);
        verifier.submitCertificate(first, _proof(first, 0));
        vm.roll(block.number + 1);
        statement = _statement(2, first.blockHash);
        message = verifier.signingRoot(statement);
        proofs[0] = _proof(statement, 0);
        proofs[1] = _proof(statement, 1);
        proofs[10] = _proof(statement, (1 << 10) - 1);
        mismatch = _mismatch(2, first.blockHash);
        alertProof = _alertProof(mismatch, 0);
        probe = new GasProbe();
    }

    /// @dev Execution gas of the verifier's frame (excludes the 21,000 base and calldata).
    function _verification(uint256 nonSigners) internal returns (uint256 used) {
        verifier.checkSignatures(message, proofs[nonSigners]);
        used = vm.lastCallGas().gasTotalUsed;
        emit log_named_uint(string.concat("verification, non-signers ", vm.toString(nonSigners)), used);
    }

    /// @dev Whether calls run as isolated transactions (`--gas-report`, `--isolate`): then the
    ///      measured gas of a state-changing call already includes the intrinsic 21,000.
    function _isolated() internal returns (bool) {
        probe.poke();
        return vm.lastCallGas().gasTotalUsed >= 21_000;
    }

    /// @dev Gas of the whole transaction: 21,000 + calldata (EIP-2028), or the EIP-7623 floor if
    ///      higher, + execution.
    function _transaction(uint256 nonSigners) internal returns (uint256 total) {
        bool isolated = _isolated();
        SignerProof memory p = proofs[nonSigners];
        bytes memory data = abi.encodeCall(CertificateVerifier.submitCertificate, (statement, p));
        verifier.submitCertificate(statement, p);
        total = _whole(isolated, data, vm.lastCallGas().gasTotalUsed);
        emit log_named_uint(
            string.concat("submitCertificate tx, non-signers ", vm.toString(nonSigners)), total
        );
        vm.assertTrue(
            verifier.isFinal(rollupId, statement.blockNumber, statement.blockHash, statement.stateRoot), ""
        );
    }

    /// @dev Whole-tx gas of a call with calldata `data` that used `used` gas.
    function _whole(bool isolated, bytes memory data, uint256 used) internal pure returns (uint256) {
        if (isolated) return used;
        uint256 zeros;
        for (uint256 i; i < data.length; ++i) {
            if (data[i] == 0) ++zeros;
        }
        uint256 tokens = zeros + (data.length - zeros) * 4;
        uint256 standard = 21_000 + tokens * 4 + used;
        uint256 floor = 21_000 + tokens * 10;
        return standard > floor ? standard : floor;
    }

    function test_gas_raiseAlert_0() public {
        bool isolated = _isolated();
        bytes memory data = abi.encodeCall(CertificateVerifier.raiseAlert, (mismatch, alertProof));
        verifier.raiseAlert(mismatch, alertProof);
        uint256 total = _whole(isolated, data, vm.lastCallGas().gasTotalUsed);
        emit log_named_uint("raiseAlert tx, non-signers 0", total);
        vm.assertEq(verifier.alertOf(rollupId).blockNumber, 2, "alert stands");
    }

    function test_gas_verification_0() public {
        vm.assertLe(_verification(0), 135_000, "verification at 0 non-signers");
    }

    function test_gas_verification_1() public {
        _verification(1);
    }

    function test_gas_verification_10() public {
        _verification(10);
    }

    function test_gas_submitCertificate_0() public {
        vm.assertLe(_transaction(0), 200_000, "whole tx at 0 non-signers");
    }

    function test_gas_submitCertificate_1() public {
        _transaction(1);
    }

    function test_gas_submitCertificate_10() public {
        _transaction(10);
    }
}
