// The report pages in a real browser, from real boots: Debian's chromium,
// driven by playwright-core, opens report.html of a CHAP lab that passed
// (with the Linux probe) and of a lab with a wrong expectation (booted by
// the boot-vm executor, which also writes the labs' index.html), then the
// index. The pages stay in dist/test-reports/report-html/labs
// with their screenshots (report.png, index.png) for a person to look at.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { bootLab, formatSummary, romMode, writeBootReport, type BootLabOptions, type BootReport, type ReportDocument, type ReportRun } from '../src';
import bootVm from '../src/executors/boot-vm/executor';
import { INITIATOR_IQN, realBootSkipReason, startLabFixture, TARGET_IQN } from './support/lab';
import { qemuProcessesMentioning } from './support/process';

const DEADLINE_SECONDS = 420; // the first run builds the probe guest; TCG on 2 shared cores
jest.setTimeout((2 * DEADLINE_SECONDS + 120) * 1000);

const CHROMIUM = '/usr/bin/chromium';
const CHAP = { username: 'labuser', password: 'Secr3tChapPw16' };
const WRONG_IQN = 'iqn.2010-04.org.example:someone-else';
const LABS_DIR = resolve(__dirname, '..', '..', '..', 'dist', 'test-reports', 'report-html', 'labs');

function browserSkipReason(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (Debian package chromium; tools/setup installs it)`;
  try {
    require.resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm ci)';
  }
  return undefined;
}

const skip = realBootSkipReason() ?? browserSkipReason();
if (skip) console.warn(`skipping report pages in a browser: ${skip}`);
const describeBrowser = skip ? describe.skip : describe;

/** Every file under `dir` as latin1 text (secrets are ASCII). */
function allText(dir: string): string {
  return readdirSync(dir, { withFileTypes: true })
    .map((e) => (e.isDirectory() ? allText(join(dir, e.name)) : readFileSync(join(dir, e.name), 'latin1')))
    .join('\n');
}

async function bootInto(lab: string, run: Omit<ReportRun, 'lab'>, chap: boolean, options: (port: number) => Omit<BootLabOptions, 'scriptPath'>): Promise<BootReport> {
  const fixture = await startLabFixture(chap ? { chap: CHAP } : {});
  try {
    const { port } = fixture.target;
    const scriptPath = fixture.writeScript({
      initiatorIqn: INITIATOR_IQN,
      sanhooks: [{ targets: [{ server: '10.0.2.2', port, lun: 1, targetIqn: TARGET_IQN }], ...(chap ? { chap: CHAP } : {}) }],
    });
    const report = await bootLab({ scriptPath, deadlineSeconds: DEADLINE_SECONDS, ...options(port) });
    writeBootReport(report, join(LABS_DIR, lab, 'boot-vm'), `${lab}:boot-vm`, { lab, ...run });
    console.log(formatSummary(report, lab));
    expect(qemuProcessesMentioning(fixture.dir)).toEqual([]);
    return report;
  } finally {
    await fixture.close();
  }
}

describeBrowser('report.html and index.html in chromium, from real boots against tgt', () => {
  let chapReport: BootReport;
  let wrongReport: ReportDocument;
  let context: BrowserContext;
  let userDataDir: string;
  /** Every URL any page of the context asked for. */
  const requests: string[] = [];

  beforeAll(async () => {
    rmSync(LABS_DIR, { recursive: true, force: true });
    mkdirSync(LABS_DIR, { recursive: true });
    // One QEMU at a time: the boots run one after the other.
    chapReport = await bootInto('chap-pass', { nic: 'rtl8139', firmware: 'bios', romMode: romMode(undefined) }, true, (port) => ({
      probe: true,
      expectations: {
        initiator: { name: INITIATOR_IQN },
        nics: [{ ip: '10.0.2.15', prefix: 24, gateway: '10.0.2.2', dns: '10.0.2.3', origin: 'dhcp', mac: '52:54:00:12:34:56' }],
        targets: [{ ip: '10.0.2.2', port, lun: 1, name: TARGET_IQN, chapType: 'chap', chapName: CHAP.username, chapSecret: CHAP.password }],
      },
    }));
    // The second through the boot-vm executor, as Nx runs it: it writes the report and then the labs' index.
    const fixture = await startLabFixture();
    try {
      const { port } = fixture.target;
      const script = fixture.writeScript({ initiatorIqn: INITIATOR_IQN, sanhooks: [{ targets: [{ server: '10.0.2.2', port, lun: 1, targetIqn: TARGET_IQN }] }] });
      const options = {
        script,
        probe: false,
        expectations: { initiator: { name: WRONG_IQN }, targets: [{ port, lun: 1, name: TARGET_IQN }] },
        deadlineSeconds: DEADLINE_SECONDS,
        outputPath: join(LABS_DIR, 'wrong-initiator', 'boot-vm'),
      };
      const context = { root: fixture.dir, projectName: 'wrong-initiator', cwd: fixture.dir, isVerbose: false } as never;
      await expect(bootVm(options, context)).resolves.toEqual({ success: false });
      expect(qemuProcessesMentioning(fixture.dir)).toEqual([]);
    } finally {
      await fixture.close();
    }
    wrongReport = JSON.parse(readFileSync(join(LABS_DIR, 'wrong-initiator', 'boot-vm', 'report.json'), 'utf8'));
    expect(existsSync(join(LABS_DIR, 'index.html'))).toBe(true);

    const { chromium } = await import('playwright-core');
    userDataDir = mkdtempSync(join(tmpdir(), 'ibft-lab-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
    });
    context.on('request', (request) => requests.push(request.url()));
  });

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    console.log(`report pages kept in ${LABS_DIR}`);
  });

  async function open(file: string): Promise<Page> {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(pathToFileURL(file).href);
    await page.waitForLoadState('load');
    expect(errors).toEqual([]);
    return page;
  }

  /** Index of a field in the page's dump data. */
  async function fieldIndex(page: Page, path: string): Promise<number> {
    const index = await page.evaluate((p) => JSON.parse(document.getElementById('ibft-fields')!.textContent!).findIndex((f: { p: string }) => f.p === p), path);
    expect(index).toBeGreaterThanOrEqual(0);
    return index;
  }

  function expectOnlyLocalRequests(): void {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((url) => !url.startsWith('file://') && !url.startsWith('data:'))).toEqual([]);
  }

  it('a passing CHAP lab: verdict, the initiator name under the pointer, the secret nowhere, no request leaves the page', async () => {
    expect(chapReport.verdict).toBe('pass');
    const dir = join(LABS_DIR, 'chap-pass', 'boot-vm');
    const page = await open(join(dir, 'report.html'));

    await expect(page.locator('#verdict').textContent()).resolves.toBe('PASS');
    await expect(page.locator('#verdict').getAttribute('data-verdict')).resolves.toBe('pass');
    await expect(page.locator('#lab').textContent()).resolves.toBe('chap-pass');
    await expect(page.locator('#rom-mode').getAttribute('data-mode')).resolves.toBe('stock');
    await expect(page.locator('#probe-verdict').textContent()).resolves.toMatch(/agrees with the host decode on all \d+ lines/);
    expect(await page.locator('#timeline-svg rect').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#expectations tr.mismatch').count()).toBe(0);
    await expect(page.locator('#expectations tr[data-path="target[0].chapSecret"] td').nth(3).textContent()).resolves.toBe('********');

    // Hover a byte of the initiator name (in the string heap): its field, raw bytes and value.
    const name = await fieldIndex(page, 'initiator.name');
    await page.locator(`#dump .hex [data-f="${name}"]`).first().hover();
    await expect(page.locator('#field-name').textContent()).resolves.toBe('Initiator name');
    await expect(page.locator('#field-path').textContent()).resolves.toBe('initiator.name');
    await expect(page.locator('#field-value').textContent()).resolves.toBe(INITIATOR_IQN);
    await expect(page.locator('#field-raw').textContent()).resolves.toMatch(/^69 71 6e 2e /); // "iqn."
    await expect(page.locator('#field-structure').textContent()).resolves.toBe('initiator');
    expect(await page.locator(`#dump [data-f="${name}"].sel`).count()).toBeGreaterThan(0);

    // Click a byte of the NIC's IP: it stays selected while the pointer moves on.
    const ip = await fieldIndex(page, 'nic[0].ip');
    await page.locator(`#dump .hex [data-f="${ip}"]`).first().click();
    await page.locator(`#dump .hex [data-f="${name}"]`).first().hover();
    await expect(page.locator('#field-name').textContent()).resolves.toBe('IP address');
    await expect(page.locator('#field-value').textContent()).resolves.toBe('10.0.2.15');
    await expect(page.locator('#field-raw').textContent()).resolves.toBe('00 00 00 00 00 00 00 00 00 00 ff ff 0a 00 02 0f');

    // The CHAP secret's bytes: masked in the dump, in the panel, in the data.
    const secret = await fieldIndex(page, 'target[0].chapSecret');
    await page.locator(`#dump .hex [data-f="${secret}"]`).first().click();
    await expect(page.locator('#field-name').textContent()).resolves.toBe('CHAP secret');
    await expect(page.locator('#field-value').textContent()).resolves.toBe('********');
    await expect(page.locator('#field-raw').textContent()).resolves.toMatch(/^(•• )+••$/);
    const secretHex = Buffer.from(CHAP.password).toString('hex').match(/../g)!.join(' ');
    const everything = await page.evaluate(() => {
      const attributes: string[] = [];
      for (const el of Array.from(document.querySelectorAll('*'))) for (const a of Array.from(el.attributes)) attributes.push(`${a.name}=${a.value}`);
      return { text: document.body.innerText, textContent: document.documentElement.textContent ?? '', attributes: attributes.join('\n'), html: document.documentElement.outerHTML };
    });
    const source = readFileSync(join(dir, 'report.html'), 'utf8');
    for (const text of [everything.text, everything.textContent, everything.attributes, everything.html, source, allText(dir)]) {
      expect(text).not.toContain(CHAP.password);
      expect(text).not.toContain(secretHex);
    }
    await page.keyboard.press('Escape');
    await page.locator(`#dump .hex [data-f="${name}"]`).first().hover();
    // Let go: only the hovered field is marked.
    expect(await page.locator('#dump .sel').evaluateAll((els) => [...new Set(els.map((el) => (el as HTMLElement).dataset.f))])).toEqual([String(name)]);
    await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    expect(allText(dir)).not.toContain(CHAP.password); // report.png too
    await page.close();
    expectOnlyLocalRequests();
  });

  it('a wrong expectation: FAIL, and the mismatching field is highlighted in the table and in the dump', async () => {
    expect(wrongReport.verdict).toBe('fail');
    const dir = join(LABS_DIR, 'wrong-initiator', 'boot-vm');
    const page = await open(join(dir, 'report.html'));

    await expect(page.locator('#verdict').textContent()).resolves.toBe('FAIL');
    await expect(page.locator('#failure').textContent()).resolves.toContain('initiator.name');
    const row = page.locator('#expectations tr.mismatch');
    expect(await row.count()).toBe(1);
    await expect(row.getAttribute('data-path')).resolves.toBe('initiator.name');
    await expect(row.locator('td').nth(2).textContent()).resolves.toBe(WRONG_IQN);
    await expect(row.locator('td').nth(3).textContent()).resolves.toBe(INITIATOR_IQN);
    expect(await page.locator('#expectations tr.match').count()).toBe(3);

    // Every highlighted byte of the dump is the initiator name's, and all of its bytes are highlighted.
    const name = await fieldIndex(page, 'initiator.name');
    const highlighted = await page.locator('#dump .mm').evaluateAll((els) => [...new Set(els.map((el) => (el as HTMLElement).dataset.f))]);
    expect(highlighted).toEqual([String(name)]);
    expect(await page.locator(`#dump [data-f="${name}"]:not(.mm)`).count()).toBe(0);
    const outline = await page.locator(`#dump .hex [data-f="${name}"]`).first().evaluate((el) => getComputedStyle(el).outlineStyle);
    expect(outline).toBe('solid');

    // Clicking the field's name in the table selects its bytes and says what differs.
    await row.locator('a[data-select]').click();
    await expect(page.locator('#field-path').textContent()).resolves.toBe('initiator.name');
    await expect(page.locator('#field-mismatch').textContent()).resolves.toBe(`✗ the lab expected ${WRONG_IQN}, the table has ${INITIATOR_IQN}`);
    expect(await page.locator(`#dump [data-f="${name}"].sel`).count()).toBeGreaterThan(0);
    await expect(page.locator('#probe-verdict').textContent()).resolves.toMatch(/Not run/);
    await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    await page.close();
    expectOnlyLocalRequests();
  });

  it('index.html lists both labs with their verdicts, and its links open their reports', async () => {
    const page = await open(join(LABS_DIR, 'index.html'));
    const rows = await page.locator('#labs tr.lab').evaluateAll((trs) =>
      trs.map((tr) => [(tr as HTMLElement).dataset.lab, (tr as HTMLElement).dataset.verdict, ...Array.from(tr.querySelectorAll('td'), (td) => td.textContent!.trim())]),
    );
    expect(rows).toEqual([
      ['chap-pass', 'pass', 'chap-pass', 'rtl8139', 'BIOS', 'dhcp', 'chap', 'stock', 'PASS', 'agrees', '–', expect.stringMatching(/^\d+\.\d$/), 'report.html'],
      // No NIC or CHAP expectations: network and CHAP as the table says.
      ['wrong-initiator', 'fail', 'wrong-initiator', 'rtl8139', 'BIOS', 'dhcp', 'none', 'stock', 'FAIL', 'off', '–', expect.stringMatching(/^\d+\.\d$/), 'report.html'],
    ]);
    await expect(page.locator('#totals').textContent()).resolves.toBe('1 passed, 1 failed');
    expect(await page.locator('#matrix a').count()).toBe(2);
    await page.screenshot({ path: join(LABS_DIR, 'index.png'), fullPage: true });

    for (const [lab, verdict] of [
      ['chap-pass', 'PASS'],
      ['wrong-initiator', 'FAIL'],
    ]) {
      await page.locator(`#labs tr[data-lab="${lab}"] a.report-link`).click();
      await page.waitForLoadState('load');
      expect(page.url()).toBe(pathToFileURL(join(LABS_DIR, lab, 'boot-vm', 'report.html')).href);
      await expect(page.locator('#verdict').textContent()).resolves.toBe(verdict);
      // And back through the report's own link to the index.
      await page.locator('#index-link').click();
      await page.waitForLoadState('load');
      expect(page.url()).toBe(pathToFileURL(join(LABS_DIR, 'index.html')).href);
    }
    expect(readFileSync(join(LABS_DIR, 'index.html'), 'utf8')).not.toContain(CHAP.password);
    await page.close();
    expectOnlyLocalRequests();
  });
});
