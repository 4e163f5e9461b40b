// Reads a lab.json from disk into a LabSpec; the folder name is the default lab name.
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { labFileProblems } from './lab-files';
import { isTableLab, LabSpecError, parseLab, type AnyLabSpec, type LabSpec } from './lab-spec';

export const LAB_FILE = 'lab.json';

/** An iPXE lab or a table lab, checked with its files. */
export function readLab(path: string, shownAs = path): AnyLabSpec {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new LabSpecError([`${shownAs}: ${(error as Error).message}; fix the JSON`]);
  }
  const lab = parseLab(json, basename(dirname(path)), shownAs);
  const problems = labFileProblems(lab, dirname(path), shownAs);
  if (problems.length) throw new LabSpecError(problems);
  return lab;
}

/** An iPXE lab (see readLab for either kind); a table lab is refused. */
export function readLabSpec(path: string, shownAs = path): LabSpec {
  const lab = readLab(path, shownAs);
  if (isTableLab(lab)) throw new LabSpecError([`${shownAs}: firmware.kind: this lab replays a table; read it with readLab, which returns either kind`]);
  return lab;
}
