module.exports = { ...require('../../jest.preset.js'), displayName: 'lab-plugin', rootDir: __dirname };
