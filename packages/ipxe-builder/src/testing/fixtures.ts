// Test support: temporary folders and a toy iPXE tree. The toy tree has the
// layout resolveSource expects (src/Makefile, src/config/general.h) and a
// Makefile that "builds" bin/<name>.rom from EMBED, the config/local headers
// and SOURCE_DATE_EPOCH with real make, so the pipeline around make can be
// tested in milliseconds. Real iPXE builds are in test/build.spec.ts.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export function tempDir(prefix = 'ipxe-builder-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
}

const TOY_MAKEFILE = `# toy iPXE Makefile for tests
bin/%.rom: $(EMBED) $(wildcard config/local/*.h)
\t@mkdir -p bin
\t@echo "  [BUILD] $@"
\t@if grep -q FAIL_BUILD $(EMBED); then echo "drivers/net/foo.c:12:3: error: 'bar' undeclared"; echo "make: *** [Makefile:3: $@] Error 1"; exit 1; fi
\t@{ cat $(EMBED); cat config/local/*.h 2>/dev/null; echo "epoch=$(SOURCE_DATE_EPOCH) git=$(GITVERSION) debug=$(DEBUG)"; } > $@
`;

export function toyIpxeTree(root: string, extra: Record<string, string> = {}): void {
  writeFiles(root, {
    'src/Makefile': TOY_MAKEFILE,
    'src/config/general.h': '#define BANNER_TIMEOUT 20\n#include <config/local/general.h>\n',
    'src/config/local/.gitignore': '*\n!.gitignore\n',
    'src/.gitignore': 'bin\nbin-*\n',
    ...extra,
  });
}

export function gitInit(root: string, date = '2024-01-02T03:04:05Z'): string {
  const env = { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: root, env, encoding: 'utf8' }).trim();
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '--allow-empty', '-m', 'toy');
  return git('rev-parse', 'HEAD');
}
