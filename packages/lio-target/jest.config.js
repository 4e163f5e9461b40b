module.exports = { ...require('../../jest.preset.js'), displayName: 'lio-target', rootDir: __dirname };
