// No value reaches a shell unquoted: lio-target's REAL transports run against
// recorders, and the recordings are checked word by word.
//
// ssh: a real OpenSSH sshd on loopback whose ForceCommand is a small script
// that saves the exact command line it received ($SSH_ORIGINAL_COMMAND), then
// runs it with `sh -c`, with a PATH whose `env` (the first word of every line
// the ssh transport sends) saves the argv the shell produced, and whose
// `targetcli` is a stand-in that saves its argv and stdin.
// local: the same `targetcli` stand-in and an argv recorder on PATH, in a real
// Node child process (Jest's CJS runtime cannot load ESM-only execa).
//
// Each command line must split, with this file's strict POSIX word splitter,
// into exactly the argv the library meant (every unquoted character inert in
// sh and bash alike), the real shell must agree, and tokens like
// `$(touch FILE)` must create nothing. Real LIO in the appliance is covered by
// test/appliance-apply.spec.ts; no VM starts here.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyDesiredState, targetStatus, teardownLab } from '../src/lib/apply';
import { derivedTargetIqn, type DesiredStateInput } from '../src/lib/model';
import { ledgerPath } from '../src/lib/ownership';
import { connectSsh, readFileVia, writeFileVia, type RunOptions, type Transport } from '../src/lib/transport';
import { sshdAvailable, startTestSshd, type TestSshd } from './support/sshd';

jest.setTimeout(120_000);

// ------------------------------------------------------ the word splitter

/** Characters that mean nothing to sh or bash outside quotes (and are not the first word's `=`). */
const INERT = /[A-Za-z0-9_./:=@%+,-]/;

/**
 * Splits a command line into words as a POSIX shell would, for lines made of
 * plain words, '...' quoting and backslash escapes. Anything a shell would
 * act on (unquoted $ ` ; | & < > ( ) * ? [ ~ # { } ! newline, or "..." with $ or `
 * inside) throws: such a line would not be one fixed argv.
 */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const add = (text: string) => (word = (word ?? '') + text);
  for (let i = 0; i < line.length; ) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
      i += 1;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' at ${i}`);
      add(line.slice(i + 1, end));
      i = end + 1;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new Error('trailing backslash');
      if (line[i + 1] !== '\n') add(line[i + 1]);
      i += 2;
    } else if (c === '"') {
      let text = '';
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '$' || line[j] === '`') throw new Error(`expansion inside "..." at ${j}`);
        if (line[j] === '\\' && '"\\\n'.includes(line[j + 1] ?? '')) j += 1;
        text += line[j];
      }
      if (j >= line.length) throw new Error(`unterminated " at ${i}`);
      add(text);
      i = j + 1;
    } else if (INERT.test(c) && !(c === '=' && words.length === 0)) {
      add(c);
      i += 1;
    } else {
      throw new Error(`unquoted ${JSON.stringify(c)} at ${i} in ${JSON.stringify(line)}`);
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

describe('shellWords (the splitter this test trusts)', () => {
  it.each([
    ['env LC_ALL=C printf', ['env', 'LC_ALL=C', 'printf']],
    ["a 'b c' d", ['a', 'b c', 'd']],
    ["'it'\\''s'", ["it's"]],
    ["''", ['']],
    ["'$(x)' '`y`' 'a\nb'", ['$(x)', '`y`', 'a\nb']],
    ['a\\ b', ['a b']],
    ['"plain text"', ['plain text']],
  ])('%j → %j', (line, words) => {
    expect(shellWords(line)).toEqual(words);
  });

  it.each(['a;b', 'a $(x)', 'a `x`', 'a *', 'a ~', 'a|b', 'a "$x"', "a 'b", 'a\nb', 'a {x,y}', 'a #c', 'a !x', 'X=1 cmd', 'a &'])(
    'refuses %j',
    (line) => {
      expect(() => shellWords(line)).toThrow();
    },
  );

  it('agrees with the real sh on quoted words', () => {
    const tokens = ['a b', "it's", '$(no)', '`no`', 'x\ny', '', '~', '*'];
    const line = tokens.map((t) => `'${t.replace(/'/g, `'\\''`)}'`).join(' ');
    const real = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${line}`]).toString().split('\0').slice(0, -1);
    expect(real).toEqual(tokens);
    expect(shellWords(line)).toEqual(tokens);
  });
});

// ------------------------------------------------------ values and recorders

/** Tokens the transport must deliver as one argument each; any that reached a shell would create `${mark}-N`. */
function awkwardTokens(mark: string): string[] {
  return [
    `$(touch ${mark}-1)`,
    `\`touch ${mark}-2\``,
    `; touch ${mark}-3`,
    `| touch ${mark}-4`,
    `&& touch ${mark}-5`,
    `x\ntouch ${mark}-6`,
    `'; touch ${mark}-7; '`,
    `"; touch ${mark}-8; "`,
    `"$(touch ${mark}-9)"`,
    `\\'$(touch ${mark}-10)`,
    `${mark}-11 > ${mark}-12`,
    'a b',
    'tab\there',
    '',
    ' ',
    '~',
    '~root',
    '*',
    '{a,b}',
    '#not a comment',
    '!!',
    '-n',
    '--',
    '$HOME',
    '${IFS}',
    'back\\slash',
    '%s%n',
    'LC_ALL=evil',
    '=x',
    'é ü',
    'trailing\\',
  ];
}

/** Valid values for every field lio-target passes on, as awkward as its rules allow. */
function awkwardLab(lab: string, dir: string) {
  return {
    lab,
    initiatorIqn: 'iqn.2010-04.org.ipxe:a-b.c:d',
    userid: '~root:user@x+y',
    password: '~+-._@:Secret12',
    mutualUserid: '-n',
    mutualPassword: '--version~@:+.',
    // SAFE_PATH allows a component that looks like an option.
    path: join(dir, '-rf', 'disk+1_a.-b.img'),
  };
}

type LabValues = ReturnType<typeof awkwardLab>;

const FIXTURES = join(__dirname, 'fixtures');

/** The captured appliance lab (test/fixtures/appliance-lab1.*) with our lab name and awkward values. */
function labDesired(v: LabValues): DesiredStateInput {
  const desired = JSON.parse(readFileSync(join(FIXTURES, 'appliance-lab1.desired.json'), 'utf8'));
  desired.lab = v.lab;
  desired.backstores[0].path = v.path;
  const acl = desired.targets[0].tpgs[0].acls[0];
  acl.initiatorIqn = v.initiatorIqn;
  acl.chap = { userid: v.userid, password: v.password };
  acl.mutualChap = { userid: v.mutualUserid, password: v.mutualPassword };
  return desired;
}

/** What rtslib would dump after applying labDesired(v): the captured dump, renamed the same way. */
function labLiveAfterApply(v: LabValues): string {
  let text = readFileSync(join(FIXTURES, 'appliance-lab1.saveconfig.json'), 'utf8');
  const swap = (from: string, to: string) => {
    if (!text.includes(from)) throw new Error(`fixture has no ${from}`);
    text = text.split(from).join(to);
  };
  swap('ibftlab_lab1_', `ibftlab_${v.lab}_`);
  swap('"iqn.2024-01.org.ibft-lab:lab1"', JSON.stringify(derivedTargetIqn(v.lab, 0)));
  swap('"/var/tmp/lab1-disk.img"', JSON.stringify(v.path));
  swap('"iqn.2010-04.org.ipxe:client"', JSON.stringify(v.initiatorIqn));
  swap('"chap_userid": "initiator"', `"chap_userid": ${JSON.stringify(v.userid)}`);
  swap('"chap_password": "initiator-secret1"', `"chap_password": ${JSON.stringify(v.password)}`);
  swap('"chap_mutual_userid": "target"', `"chap_mutual_userid": ${JSON.stringify(v.mutualUserid)}`);
  swap('"chap_mutual_password": "target-secret-22"', `"chap_mutual_password": ${JSON.stringify(v.mutualPassword)}`);
  return text;
}

const EMPTY_LIVE = JSON.stringify({ storage_objects: [], targets: [], fabric_modules: [] });

/**
 * A folder with bin/ (shims), rec/ (recordings) and the stand-in targetcli's
 * state: `saveconfig FILE` copies state.json; a script on stdin is saved and
 * moves state.json to applied.json (a script that creates) or empty.json (one
 * that only deletes).
 */
function recorderDir(v: LabValues): { dir: string; bin: string; rec: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-quoting-'));
  const bin = join(dir, 'bin');
  const rec = join(dir, 'rec');
  mkdirSync(bin);
  mkdirSync(rec);
  writeFileSync(join(dir, 'state.json'), EMPTY_LIVE);
  writeFileSync(join(dir, 'empty.json'), EMPTY_LIVE);
  writeFileSync(join(dir, 'applied.json'), labLiveAfterApply(v));
  const script = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  script(
    'targetcli',
    [
      `d='${dir}'`,
      `n=$(printf '%05d' "$(ls "$d"/rec/ | grep -c '^tc\\..*\\.argv$')")`,
      `if [ $# -gt 0 ]; then printf '%s\\0' "$@"; fi > "$d/rec/tc.$n.argv"`,
      'if [ "$1" = saveconfig ]; then cp "$d/state.json" "$2"; exit 0; fi',
      'cat > "$d/rec/tc.$n.stdin"',
      `if grep -q ' create' "$d/rec/tc.$n.stdin"; then cp "$d/applied.json" "$d/state.json"; else cp "$d/empty.json" "$d/state.json"; fi`,
      'echo "stand-in targetcli: script saved"',
    ].join('\n'),
  );
  // ssh: every line starts with `env`; this one saves the argv the shell gave it.
  script('env', `printf '%s\\0' "$@" > '${rec}/argv.'"$RECORDER_SEQ"\nexec /usr/bin/env "$@"`);
  // local: a command that saves its argv.
  script('argrec', `printf '%s\\0' "$@" > '${rec}/argrec'`);
  return { dir, bin, rec };
}

const nulList = (file: string) => readFileSync(file, 'utf8').split('\0').slice(0, -1);

/** Files in `rec` named <prefix>.<n>[suffix], in order. */
function recorded(rec: string, prefix: string, suffix = ''): string[] {
  return readdirSync(rec)
    .filter((f) => f.startsWith(`${prefix}.`) && f.endsWith(suffix))
    .sort()
    .map((f) => join(rec, f));
}

function leftovers(dir: string, mark: string): string[] {
  return readdirSync(dir).filter((f) => f.startsWith(mark));
}

/** The auth line plan renders for the ACL, as targetcli must receive it. */
function authLine(v: LabValues): string {
  return `set auth userid=${v.userid} password=${v.password} mutual_userid=${v.mutualUserid} mutual_password=${v.mutualPassword}`;
}

function cleanMachine(lab: string): void {
  rmSync(ledgerPath(lab), { force: true });
  rmSync(ledgerPath(lab).replace(/\.json$/, '.lock'), { recursive: true, force: true });
}

// ------------------------------------------------------ ssh

const skipReason = sshdAvailable();
if (skipReason) console.log(`shell-quoting over ssh skipped: ${skipReason} (bash tools/setup installs openssh-server; run as root)`);
const itSsh = skipReason ? it.skip : it;

interface Sent {
  argv: string[];
  stdin?: string;
}

/** The transport, with every argv (and stdin) it is asked to run noted first. */
function noting(real: Transport, sent: Sent[]): Transport {
  const transport: Transport = {
    description: real.description,
    run: (argv: string[], options?: RunOptions) => {
      sent.push({ argv, stdin: options?.stdin });
      return real.run(argv, options);
    },
    readFile: (path) => readFileVia(transport, path),
    writeFile: (path, content) => writeFileVia(transport, path, content),
    close: () => real.close(),
  };
  return transport;
}

describe('ssh transport → sshd whose ForceCommand records the command line', () => {
  const lab = `sqs-${process.pid}`;
  let dir: string;
  let rec: string;
  let base: string;
  let values: LabValues;
  let sshd: TestSshd | undefined;
  let transport: Transport | undefined;
  const sent: Sent[] = [];

  beforeAll(async () => {
    if (skipReason) return;
    base = mkdtempSync(join(tmpdir(), 'ibft-lab-quoting-files-'));
    values = awkwardLab(lab, base);
    ({ dir, rec } = recorderDir(values));
    const recorder = join(dir, 'recorder');
    writeFileSync(
      recorder,
      [
        '#!/bin/sh',
        '# Saves the exact command line sshd received, then runs it as sshd would have (with our shims first on PATH).',
        `d='${dir}'`,
        `n=$(printf '%05d' "$(ls "$d"/rec/ | grep -c '^cmd\\.')")`,
        `printf '%s' "$SSH_ORIGINAL_COMMAND" > "$d/rec/cmd.$n"`,
        'export RECORDER_SEQ="$n"',
        'export PATH="$d/bin:$PATH"',
        'exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"',
        '',
      ].join('\n'),
    );
    chmodSync(recorder, 0o755);
    sshd = await startTestSshd({ forceCommand: recorder });
    const real = await connectSsh({ host: '127.0.0.1', port: sshd.port, user: 'root', privateKeyPath: sshd.clientKeyPath, hostKeyFingerprint: sshd.hostKeyFingerprint });
    transport = noting(real, sent);
  });

  afterAll(async () => {
    await transport?.close();
    await sshd?.stop();
    if (!skipReason) {
      cleanMachine(lab);
      rmSync(base, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Checks every command sent so far: the recorded line splits into env + argv, and the shell agreed. */
  const expectEveryLineOneWordPerArgument = () => {
    const lines = recorded(rec, 'cmd');
    expect(lines).toHaveLength(sent.length);
    sent.forEach(({ argv }, i) => {
      const meant = ['env', 'LC_ALL=C', 'TERM=dumb', ...argv];
      const line = readFileSync(lines[i], 'utf8');
      expect({ line, words: shellWords(line) }).toEqual({ line, words: meant });
      // What the real sh handed to env (its own argv[0] aside).
      expect(nulList(join(rec, `argv.${String(i).padStart(5, '0')}`))).toEqual(meant.slice(1));
    });
  };

  itSsh('run: awkward tokens arrive as one argument each, and none runs anything', async () => {
    const mark = join(dir, 'pwned');
    const tokens = awkwardTokens(mark);
    const result = await transport!.run(['printf', '<%s>\\n', ...tokens]);
    expect(result.stdout).toBe(tokens.map((t) => `<${t}>\n`).join(''));
    expect(leftovers(dir, 'pwned')).toEqual([]);
    expectEveryLineOneWordPerArgument();
  });

  itSsh("applyDesiredState, targetStatus and teardownLab: every command line is the argv meant, targetcli's script arrives verbatim", async () => {
    const before = sent.length;
    const report = await applyDesiredState(transport!, labDesired(values));
    expect(report.commandsRun).toBeGreaterThan(0);
    expect((await targetStatus(transport!, labDesired(values))).inSync).toBe(true);
    const down = await teardownLab(transport!, lab);
    expect(down.removedFiles).toEqual([values.path]);
    expect(sent.length - before).toBeGreaterThan(5);
    expectEveryLineOneWordPerArgument();

    // targetcli: saveconfig FILE (reads) and two piped scripts (apply, teardown), each what was sent.
    const scripts = recorded(rec, 'tc', '.stdin').map((f) => readFileSync(f, 'utf8'));
    const sentScripts = sent.map((s) => s.stdin).filter((s): s is string => s !== undefined && s.startsWith('set global auto_save_on_exit=false'));
    expect(scripts).toHaveLength(2);
    expect(sentScripts).toHaveLength(2);
    scripts.forEach((script, i) => expect(sentScripts[i].startsWith(script)).toBe(true));
    expect(scripts[0].split('\n')).toContainEqual(expect.stringContaining(authLine(values)));
    for (const argv of recorded(rec, 'tc', '.argv').map(nulList)) expect(argv.length === 0 || (argv[0] === 'saveconfig' && argv.length === 2)).toBe(true);
    expect(existsSync(ledgerPath(lab))).toBe(false);
  });
});

// ------------------------------------------------------ local

const asRoot = process.getuid?.() === 0;
if (!asRoot) console.log('shell-quoting over the local transport skipped: not root, so it would run `sudo -n` (run the tests as root)');
const itLocal = asRoot ? it : it.skip;

describe('local transport → PATH shims (real Node child process)', () => {
  const lab = `sql-${process.pid}`;
  let dir: string;
  let bin: string;
  let rec: string;
  let base: string;
  let values: LabValues;
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'ibft-lab-quoting-files-'));
    values = awkwardLab(lab, base);
    ({ dir, bin, rec } = recorderDir(values));
  });
  afterAll(() => {
    cleanMachine(lab);
    rmSync(base, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  itLocal('run and apply/status/teardown: argv intact, targetcli gets the script verbatim, nothing extra runs', () => {
    const mark = join(dir, 'pwned');
    const tokens = awkwardTokens(mark);
    const root = join(__dirname, '..', '..', '..');
    const script = `
      const { localTransport, readFileVia, writeFileVia } = require('./packages/lio-target/src/lib/transport');
      const { applyDesiredState, targetStatus, teardownLab } = require('./packages/lio-target/src/lib/apply');
      (async () => {
        const { tokens, desired, lab } = JSON.parse(process.argv[1]);
        const real = localTransport();
        const sent = [];
        const t = {
          description: real.description,
          run: (argv, o) => (sent.push({ argv, stdin: o && o.stdin }), real.run(argv, o)),
          readFile: (p) => readFileVia(t, p),
          writeFile: (p, c) => writeFileVia(t, p, c),
          close: () => real.close(),
        };
        const echo = await t.run(['argrec', ...tokens]);
        const applied = await applyDesiredState(t, desired);
        const status = await targetStatus(t, desired);
        const down = await teardownLab(t, lab);
        process.stdout.write(JSON.stringify({ echo, commandsRun: applied.commandsRun, inSync: status.inSync, removed: down.removedFiles, sent }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const out = execFileSync(process.execPath, ['-r', './tools/register-ts.js', '-e', script, JSON.stringify({ tokens, desired: labDesired(values), lab })], {
      cwd: root,
      env: { ...process.env, PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` },
      maxBuffer: 64 * 1024 * 1024,
    }).toString();
    const result = JSON.parse(out) as { echo: { code: number }; commandsRun: number; inSync: boolean; removed: string[]; sent: Sent[] };

    expect(result.echo.code).toBe(0);
    expect(nulList(join(rec, 'argrec'))).toEqual(tokens);
    expect(leftovers(dir, 'pwned')).toEqual([]);
    expect(result.commandsRun).toBeGreaterThan(0);
    expect(result.inSync).toBe(true);
    expect(result.removed).toEqual([values.path]);

    const scripts = recorded(rec, 'tc', '.stdin').map((f) => readFileSync(f, 'utf8'));
    const sentScripts = result.sent.map((s) => s.stdin).filter((s): s is string => typeof s === 'string' && s.startsWith('set global auto_save_on_exit=false'));
    expect(scripts).toHaveLength(2);
    scripts.forEach((text, i) => expect(sentScripts[i].startsWith(text)).toBe(true));
    expect(scripts[0].split('\n')).toContainEqual(expect.stringContaining(authLine(values)));
    expect(existsSync(ledgerPath(lab))).toBe(false);
  });
});
