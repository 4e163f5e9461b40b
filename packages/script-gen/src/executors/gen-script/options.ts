import { z } from 'zod';
export const optionsSchema = z.object({});
