// Lets plain `node -r ./tools/register-ts.js file.ts` run workspace TypeScript
// (same transpiler Nx uses for local plugins).
require('@swc-node/register');
