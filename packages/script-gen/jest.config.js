module.exports = { ...require('../../jest.preset.js'), displayName: 'script-gen', rootDir: __dirname };
