import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initiatorPhases, IPXE_FAILURE_PATTERNS } from '../boot/ipxe-failures';
import { calmLog, verboseFromEnv } from './calm-log';

// A real stock-ROM console (SeaBIOS, iPXE, script, probe), shortened.
const CONSOLE = [
  'SeaBIOS (version 1.16.2-debian-1.16.2-1)',
  'iPXE (http://ipxe.org) 00:03.0 CA00 PCI2.10 PnP PMM+06FCB300+06F0B300 CA00',
  'iPXE 1.0.0+git-20190125.36a4c85-5.1 -- Open Source Network Boot Firmware -- http://ipxe.org',
  'Configuring (net0 52:54:00:12:34:56)...... ok',
  'tftp://10.0.2.2/boot.ipxe... ok',
  'Registered SAN device 0x80',
  '== config done ==',
  'IBFT-LAB-PROBE-BEGIN',
  'ibft-probe: initiator/initiator-name=iqn.2010-04.org.ipxe:ibft-lab',
  'IBFT-LAB-PROBE-END',
];

describe('calmLog', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ibft-lab-calm-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints one line per phase with its second, passes the caller\'s own lines, keeps the whole console in the file', () => {
    const printed: string[] = [];
    let t = 1000;
    const calm = calmLog({ serialPrefix: '[lab] ', phases: initiatorPhases('== config done =='), errors: IPXE_FAILURE_PATTERNS, verbose: false, file: join(dir, 'c.log'), print: (l) => printed.push(l), now: () => (t += 500) }); // each print reads the clock once
    calm.log('gen-script: wrote dist/labs/lab/boot.ipxe');
    for (const line of CONSOLE) calm.log(`[lab] ${line}`);
    expect(printed).toEqual([
      'gen-script: wrote dist/labs/lab/boot.ipxe',
      '[lab] iPXE 1.0.0+git-20190125.36a4c85-5.1 (0.5 s)',
      '[lab] DHCP on net0 (1.0 s)',
      '[lab] Registered SAN device 0x80 (1.5 s)',
      '[lab] marker == config done == (2.0 s)',
      '[lab] Linux probe reading /sys/firmware/ibft (2.5 s)',
      '[lab] Linux probe done (3.0 s)',
    ]);
    expect(readFileSync(join(dir, 'c.log'), 'utf8')).toBe(`${CONSOLE.join('\n')}\n`);
  });

  it('prints error lines at once, and everything when verbose', () => {
    const printed: string[] = [];
    const calm = calmLog({ serialPrefix: '[lab] ', phases: [], errors: IPXE_FAILURE_PATTERNS, verbose: false, print: (l) => printed.push(l) });
    calm.log('[lab] noise');
    calm.log('[lab] Could not open SAN device: Connection reset (http://ipxe.org/0f0a6039)');
    expect(printed).toEqual(['[lab] Could not open SAN device: Connection reset (http://ipxe.org/0f0a6039)']);
    const all: string[] = [];
    const verbose = calmLog({ serialPrefix: '[lab] ', phases: initiatorPhases('x'), errors: [], verbose: true, print: (l) => all.push(l) });
    for (const line of CONSOLE) verbose.log(`[lab] ${line}`);
    expect(all).toEqual(CONSOLE.map((l) => `[lab] ${l}`));
  });

  it('IBFT_LAB_VERBOSE=1 or true turns verbose on', () => {
    expect([verboseFromEnv({ IBFT_LAB_VERBOSE: '1' }), verboseFromEnv({ IBFT_LAB_VERBOSE: 'true' }), verboseFromEnv({}), verboseFromEnv({ IBFT_LAB_VERBOSE: '0' })]).toEqual([true, true, false, false]);
  });
});
