// schema.json is generated from this re-export (npm run schemas). Code
// imports ./options: at runtime `require('./schema')` resolves to
// schema.json (Node tries .json before registered .ts), not this file.
export * from './options';
