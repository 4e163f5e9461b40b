// The secrets the example CHAP lab (labs/static-mutual-chap) names by
// reference: the test suite and the benches provide them, as a user would.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** Exported for `{"env": "IBFT_LAB_CHAP_SECRET"}`. */
export const EXAMPLE_SECRET_ENV = { IBFT_LAB_CHAP_SECRET: 'initiator-0001' };

/** `{"file": "mutual-secret.txt"}`, relative to the lab folder (git-ignored). */
export const EXAMPLE_SECRET_FILE = join(root, 'labs', 'static-mutual-chap', 'mutual-secret.txt');

/** Writes the file secret; returns a function that removes it again. */
export function provideExampleSecrets(): () => void {
  writeFileSync(EXAMPLE_SECRET_FILE, 'target-secret-02\n');
  return () => rmSync(EXAMPLE_SECRET_FILE, { force: true });
}
