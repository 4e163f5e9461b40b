// What parseLabSpec refuses in a lab.json, as the lines a user reads (none when it is accepted).
import { LabSpecError, parseLabSpec } from '../lib/lab-spec';

export function labProblems(input: unknown): string[] {
  try {
    parseLabSpec(input, 'lab');
  } catch (error) {
    if (error instanceof LabSpecError) return error.problems;
    throw error;
  }
  return [];
}
