// The options schema lives in options.ts: Node resolves './schema' to schema.json
// before schema.ts, so code imports './options'; the schema tool reads this file.
export * from './options';
