import { compareIbft, SECRET_DIFFERS, type IbftExpectation } from './compare';
import { decodeIbft } from './decode';
import { encodeIbft } from '../../test/support/encode-ibft';
import { loadFixture } from '../../test/support/fixtures';

const fixtureTable = () => decodeIbft(loadFixture('stock-ipxe-tgt').bin).table!;

describe('compareIbft', () => {
  it('the real fixture matches its lab setup', () => {
    const expected: IbftExpectation = {
      initiator: { name: 'iqn.2010-04.org.ipxe:foobar' },
      nics: [{ ip: '10.0.2.15', prefix: 24, gateway: '10.0.2.2', dns: '10.0.2.3', dhcp: '10.0.2.2', origin: 'dhcp', mac: '52-54-00-12-34-56', vlan: 0 }],
      targets: [{ ip: '10.0.2.2', port: 3260, lun: 1, name: 'iqn.2003-01.org.example:lab', chapType: 'none', nicAssociation: 0 }],
    };
    expect(compareIbft(expected, fixtureTable())).toEqual([]);
  });

  it('accepts the LUN as a number, iPXE hex words, or the full 4-word form', () => {
    for (const lun of [1, '1', '0001', '0001-0000-0000-0000', '1-0']) {
      expect(compareIbft({ targets: [{ lun }] }, fixtureTable())).toEqual([]);
    }
    expect(compareIbft({ targets: [{ lun: 2 }] }, fixtureTable())).toEqual([{ path: 'target[0].lun', expected: 2, actual: 1 }]);
    expect(compareIbft({ targets: [{ lun: '0002-0000-0000-0000' }] }, fixtureTable())).toEqual([
      { path: 'target[0].lun', expected: '0002-0000-0000-0000', actual: '0001-0000-0000-0000' },
    ]);
  });

  it('reports each differing field with its path', () => {
    const mismatches = compareIbft(
      {
        initiator: { name: 'iqn.2010-04.org.ipxe:other' },
        nics: [{ ip: '10.0.2.16', origin: 1, hostname: 'box' }],
        targets: [{ port: 3261, chapType: 'chap' }, { ip: '10.0.2.3' }],
      },
      fixtureTable(),
    );
    expect(mismatches).toEqual([
      { path: 'initiator.name', expected: 'iqn.2010-04.org.ipxe:other', actual: 'iqn.2010-04.org.ipxe:foobar' },
      { path: 'nic[0].ip', expected: '10.0.2.16', actual: '10.0.2.15' },
      { path: 'nic[0].origin', expected: 1, actual: 3 },
      { path: 'nic[0].hostname', expected: 'box', actual: null },
      { path: 'target[0].port', expected: 3261, actual: 3260 },
      { path: 'target[0].chapType', expected: 'chap', actual: 'none' },
      { path: 'target[1]', expected: 'present', actual: null },
    ]);
  });

  it('compares IPv6 addresses in any notation', () => {
    const table = decodeIbft(encodeIbft({ nics: [{ ip: 'fd00::5054:ff:fe12:3456', prefix: 64 }], targets: [{ ip: 'fd00::2' }] })).table!;
    expect(compareIbft({ nics: [{ ip: 'FD00:0:0:0:5054:00ff:FE12:3456' }], targets: [{ ip: '[fd00:0000::2]' }] }, table)).toEqual([]);
    expect(compareIbft({ targets: [{ ip: 'fd00::3' }] }, table)).toEqual([{ path: 'target[0].ip', expected: 'fd00::3', actual: 'fd00::2' }]);
  });

  it('compares CHAP secrets but never prints them', () => {
    const table = decodeIbft(
      encodeIbft({ targets: [{ ip: '10.0.2.2', chapType: 2, chapName: 'u', chapSecret: 'right-secret-1', reverseChapName: 'r', reverseChapSecret: 'right-secret-2' }] }),
    ).table!;
    expect(compareIbft({ targets: [{ chapSecret: 'right-secret-1', reverseChapSecret: 'right-secret-2', chapType: 'mutual' }] }, table)).toEqual([]);
    const mismatches = compareIbft({ targets: [{ chapSecret: 'wrong-secret-1', reverseChapSecret: 'wrong-secret-2' }] }, table);
    expect(mismatches).toEqual([
      { path: 'target[0].chapSecret', expected: SECRET_DIFFERS, actual: SECRET_DIFFERS },
      { path: 'target[0].reverseChapSecret', expected: SECRET_DIFFERS, actual: SECRET_DIFFERS },
    ]);
    expect(JSON.stringify(mismatches)).not.toMatch(/right-secret|wrong-secret/);
  });

  it('an expected secret on a table without one', () => {
    expect(compareIbft({ targets: [{ chapSecret: 'x-secret' }] }, fixtureTable())).toEqual([
      { path: 'target[0].chapSecret', expected: SECRET_DIFFERS, actual: null },
    ]);
  });
});
