module.exports = { ...require('../../jest.preset.js'), displayName: 'labs', rootDir: __dirname, testMatch: ['<rootDir>/**/*.spec.ts'] };
