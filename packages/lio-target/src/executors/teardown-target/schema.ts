// The options schema lives in options.ts: Node resolves './schema' to schema.json
// before any TypeScript file, so code imports './options'; tools/schemas reads this file.
export { optionsSchema } from './options';
