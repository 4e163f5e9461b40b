import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptAnswer } from './apt-answers';

describe('aptAnswer', () => {
  let work: string;
  beforeEach(() => (work = mkdtempSync(join(tmpdir(), 'ibft-lab-apt-answers-'))));
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('asks once per apt state and question, and again when the lists change or the answer is no longer valid', async () => {
    const lists = join(work, 'lists');
    mkdirSync(lists);
    writeFileSync(join(lists, 'deb.debian.org_Packages'), 'Package: a\n');
    const cache = join(work, 'cache');
    let asked = 0;
    const ask = async () => `answer ${++asked}`;
    const answer = (question: string, valid?: (a: string) => boolean) => aptAnswer(cache, question, ask, valid, [lists]);
    expect(await answer('q')).toBe('answer 1');
    expect(await answer('q')).toBe('answer 1');
    expect(await answer('other')).toBe('answer 2');
    // apt-get update rewrites the lists.
    writeFileSync(join(lists, 'deb.debian.org_Packages'), 'Package: a\nPackage: b\n');
    expect(await answer('q')).toBe('answer 3');
    expect(await answer('q', (a) => a !== 'answer 3')).toBe('answer 4');
    expect(asked).toBe(4);
  });
});
