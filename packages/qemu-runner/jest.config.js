module.exports = { ...require('../../jest.preset.js'), displayName: 'qemu-runner', rootDir: __dirname };
