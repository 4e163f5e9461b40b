// `"plugin": "@ibft-lab/lab/plugin"` in nx.json loads this from an installed
// package; inside this repository tsconfig paths point Nx at the source.
module.exports = require('./src/plugins/plugin');
