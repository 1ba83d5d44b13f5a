#!/usr/bin/env node
// Compiles the workload contracts (*.sol here) with the repo's pinned solcjs and writes
// Foundry-shaped artifacts to out/<Contract>.json, which `sol!` embeds with their bytecode.
//   node tests/workload/build.js          regenerate
//   node tests/workload/build.js --check  exit 1 if out/ is stale (run by the crate's tests)
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require(path.join(__dirname, '..', '..', 'node_modules', 'solc'));

const sources = {};
for (const file of fs.readdirSync(__dirname).filter((f) => f.endsWith('.sol')).sort()) {
  sources[file] = { content: fs.readFileSync(path.join(__dirname, file), 'utf8') };
}
const input = {
  language: 'Solidity',
  sources,
  settings: {
    evmVersion: 'prague',
    optimizer: { enabled: true, runs: 200 },
    // No metadata hash: the bytecode depends on the sources only, not on paths or comments' hash.
    metadata: { bytecodeHash: 'none', appendCBOR: false },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
if (errors.length) {
  for (const e of errors) process.stderr.write(e.formattedMessage);
  process.exit(2);
}

const outDir = path.join(__dirname, 'out');
const check = process.argv.includes('--check');
let stale = [];
for (const file of Object.keys(output.contracts).sort()) {
  for (const [name, c] of Object.entries(output.contracts[file])) {
    const artifact = {
      abi: c.abi,
      bytecode: { object: '0x' + c.evm.bytecode.object },
      deployedBytecode: { object: '0x' + c.evm.deployedBytecode.object },
    };
    const text = JSON.stringify(artifact, null, 2) + '\n';
    const target = path.join(outDir, `${name}.json`);
    if (check) {
      if (!fs.existsSync(target) || fs.readFileSync(target, 'utf8') !== text) stale.push(target);
    } else {
      fs.mkdirSync(outDir, { recursive: true });
      fs.writeFileSync(target, text);
    }
  }
}
if (stale.length) {
  process.stderr.write(`stale artifacts (run \`node tests/workload/build.js\`): ${stale.join(', ')}\n`);
  process.exit(1);
}
