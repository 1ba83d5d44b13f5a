// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;
import {Probe} from "../src/Probe.sol";
contract ProbeTest {
    function test_precompile() public {
        Probe p = new Probe();
        bytes memory out = p.g1add(new bytes(256));
        require(out.length == 128, "len");
    }
}
