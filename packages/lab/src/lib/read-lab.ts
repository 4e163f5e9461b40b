// Reads a lab.json from disk into a LabSpec; the folder name is the default lab name.
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { labFileProblems } from './lab-files';
import { LabSpecError, parseLabSpec, type LabSpec } from './lab-spec';

export const LAB_FILE = 'lab.json';

export function readLabSpec(path: string, shownAs = path): LabSpec {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new LabSpecError([`${shownAs}: ${(error as Error).message}; fix the JSON`]);
  }
  const lab = parseLabSpec(json, basename(dirname(path)), shownAs);
  const problems = labFileProblems(lab, dirname(path), shownAs);
  if (problems.length) throw new LabSpecError(problems);
  return lab;
}
