#!/usr/bin/env node
// Runs the TypeScript CLI straight from the source tree.
require('@swc-node/register');
const { runIpxeLint } = require('../src/cli/ipxe-lint.ts');

process.exitCode = runIpxeLint(process.argv.slice(2), {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  cwd: process.cwd(),
});
