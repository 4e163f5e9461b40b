// What reading a lab refuses, as the lines a user reads (none when it is accepted).
import { LabSpecError, parseLabSpec } from '../lib/lab-spec';

/** The problems `run` throws as a LabSpecError; any other error is rethrown. */
export function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof LabSpecError) return error.problems;
    throw error;
  }
  return [];
}

export function labProblems(input: unknown): string[] {
  return problemsOf(() => parseLabSpec(input, 'lab'));
}
