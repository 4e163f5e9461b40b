// Shared Jest settings: ts-jest compiles TypeScript to CommonJS, and the
// workspace packages resolve to their sources (same map as tsconfig paths).
const path = require('node:path');

const packages = ['cache', 'script-gen', 'ibft', 'ipxe-builder', 'qemu-runner', 'lio-target', 'lab'];
const moduleNameMapper = Object.fromEntries(
  packages.map((name) => [`^@ibft-lab/${name}$`, path.join(__dirname, 'packages', name, 'src', 'index.ts')]),
);

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(__dirname, 'tsconfig.base.json') }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
