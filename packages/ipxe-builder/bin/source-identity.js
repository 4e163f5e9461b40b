#!/usr/bin/env node
// Nx runtime input for build-rom: prints the iPXE source identity. See src/lib/identity-cli.ts.
require('@swc-node/register');
const { main } = require('../src/lib/identity-cli.ts');
process.exitCode = main(process.argv.slice(2), process.env, process.cwd());
