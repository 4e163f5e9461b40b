import { expectSerial, plainSerialText, type SerialWaiter } from './serial-console';

describe('plainSerialText', () => {
  it('removes ANSI escapes and carriage returns the way a terminal would show the text', () => {
    expect(plainSerialText('\x1b[2J\x1b[01;01HiPXE 1.0\r\nConfiguring (net0)...... ok\r\n')).toBe(
      'iPXE 1.0\nConfiguring (net0)...... ok\n',
    );
    expect(plainSerialText('progress 10%\rprogress 100%\n')).toBe('progress 100%\n');
  });
});

/** A console whose text grows on a timeline, with QemuVm.waitForSerial's contract (from, failOn, deadline). */
function fakeConsole(timeline: Array<[number, string]>): SerialWaiter {
  let text = '';
  const startedAt = Date.now();
  const listeners = new Set<() => void>();
  for (const [ms, chunk] of timeline) {
    setTimeout(() => {
      text += chunk;
      for (const l of listeners) l();
    }, ms);
  }
  return {
    startedAt,
    waitForSerial: (pattern, { deadlineMs, failOn = [], from = 0 }) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const slice = text.slice(from);
          const match = typeof pattern === 'string' ? (slice.includes(pattern) ? Object.assign([pattern], { index: slice.indexOf(pattern) }) : null) : pattern.exec(slice);
          const bad = failOn.map((f) => f.exec(slice)).find((m) => m && (!match || (m.index ?? 0) < (match.index ?? 0)));
          if (bad) return done(() => reject(new Error(`boot failed: ${bad[0]}`)));
          if (match) done(() => resolve(match as RegExpMatchArray));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no ${String(pattern)} on the serial console within ${deadlineMs} ms`))), deadlineMs);
        const done = (fn: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          fn();
        };
        listeners.add(check);
        check();
      }),
  };
}

describe('expectSerial', () => {
  it('matches steps in order, each after the previous one, with the time each was seen', async () => {
    // "b" appears once before "a": an ordered wait must not take it for the step after "a".
    const vm = fakeConsole([[10, 'boot b\n'], [60, 'a\n'], [120, 'b again\n']]);
    const results = await expectSerial(vm, [
      { pattern: /^a$/m, withinSeconds: 2, name: 'a' },
      { pattern: /b again|b\b/, withinSeconds: 2 },
    ]);
    expect(results.map((r) => [r.name, r.matched, r.text])).toEqual([
      ['a', true, 'a'],
      ['/b again|b\\b/', true, 'b again'],
    ]);
    expect(results[0].atSeconds).toBeGreaterThanOrEqual(0.05);
    // Millisecond clock: under load both lines can be taken in the same millisecond, so "after" is "not before".
    expect(results[1].atSeconds as number).toBeGreaterThanOrEqual(results[0].atSeconds as number);
  });

  it('gives each step its own deadline, counted from the previous match', async () => {
    const vm = fakeConsole([[20, 'one\n'], [400, 'two\n']]);
    const results = await expectSerial(vm, [
      { pattern: 'one', withinSeconds: 1 },
      { pattern: 'two', withinSeconds: 0.2, name: 'second line' },
      { pattern: 'three', withinSeconds: 5 },
    ]);
    expect(results.map((r) => r.matched)).toEqual([true, false, false]);
    expect(results[1].failure).toBe('no second line within 0.2 s');
    expect(results[2].failure).toBeUndefined();
    expect(results[2].atSeconds).toBeNull();
  });

  it('ends at a fail pattern seen before the awaited line', async () => {
    const vm = fakeConsole([[10, 'Loading\n'], [30, 'Kernel panic - not syncing\n'], [60, 'login:\n']]);
    const results = await expectSerial(vm, [{ pattern: 'Loading', withinSeconds: 1 }, { pattern: 'login:', withinSeconds: 1 }], { failOn: [/Kernel panic/] });
    expect(results.map((r) => r.matched)).toEqual([true, false]);
    expect(results[1].failure).toMatch(/Kernel panic/);
  });

  it('refuses a step without a positive deadline', async () => {
    await expect(expectSerial(fakeConsole([]), [{ pattern: 'x', withinSeconds: 0 }])).rejects.toThrow(/expectations\[0\]\.withinSeconds/);
  });
});
