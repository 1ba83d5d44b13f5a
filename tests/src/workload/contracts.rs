//! Bindings and bytecode of the workload contracts (`tests/workload/*.sol`), embedded from the
//! committed artifacts in `tests/workload/out/` (regenerate with `node tests/workload/build.js`).

#![allow(missing_docs)]

use alloy::sol;

sol!(Workbench, "workload/out/Workbench.json");
sol!(Factory, "workload/out/Factory.json");
sol!(Child, "workload/out/Child.json");
sol!(Token, "workload/out/Token.json");
