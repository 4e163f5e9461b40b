// The zod options schema lives in options.ts: at runtime require('./schema')
// resolves to schema.json before schema.ts, so code imports './options'.
export { optionsSchema } from './options';
