import { targetOptionsSchema } from '../shared-options';

export const optionsSchema = targetOptionsSchema;
