module.exports = { ...require('../../jest.preset.js'), displayName: 'ipxe-builder', rootDir: __dirname };
