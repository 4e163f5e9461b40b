module.exports = { ...require('../../jest.preset.js'), displayName: 'ibft', rootDir: __dirname };
