// The responder on real loopback UDP sockets, standing in for QEMU's hub socket
// (the boot e2e, test/boot-lab.spec.ts, runs it against the stock ROM in QEMU).
import { createSocket, type Socket } from 'node:dgram';
import { discoverIn, PROXY_DHCP_IP, startQuickProxyDhcp, type QuickProxyDhcp } from './quick-proxy-dhcp';

const CLIENT_MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

/** A client's broadcast DHCP message of `type` as an Ethernet frame, as iPXE sends it. */
function dhcpFrame(type: number, xid = 0x1234abcd): Buffer {
  const bootp = Buffer.alloc(240);
  bootp[0] = 1;
  bootp[1] = 1;
  bootp[2] = 6;
  bootp.writeUInt32BE(xid, 4);
  Buffer.from(CLIENT_MAC).copy(bootp, 28);
  bootp.writeUInt32BE(0x63825363, 236);
  const payload = Buffer.concat([bootp, Buffer.from([0, 53, 1, type, 55, 2, 1, 3, 255])]);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(68, 0);
  udp.writeUInt16BE(67, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(28 + payload.length, 2);
  ip[9] = 17;
  Buffer.from([255, 255, 255, 255]).copy(ip, 16);
  const ethernet = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...CLIENT_MAC, 0x08, 0x00]);
  return Buffer.concat([ethernet, ip, udp, payload]);
}

function options(bootp: Buffer): Map<number, Buffer> {
  const found = new Map<number, Buffer>();
  for (let o = 240; bootp[o] !== 255; o += bootp[o] === 0 ? 1 : 2 + bootp[o + 1]) {
    if (bootp[o] !== 0) found.set(bootp[o], bootp.subarray(o + 2, o + 2 + bootp[o + 1]));
  }
  return found;
}

describe('the quick ProxyDHCP responder', () => {
  let responder: QuickProxyDhcp;
  let hub: Socket;
  const received: Buffer[] = [];
  beforeAll(async () => {
    responder = await startQuickProxyDhcp({ nextServer: '10.0.2.2', bootfile: 'boot.ipxe' });
    hub = createSocket('udp4');
    hub.on('message', (frame) => received.push(frame));
    await new Promise<void>((resolve) => hub.bind(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await responder.close();
    await new Promise<void>((resolve) => hub.close(() => resolve()));
  });

  const send = async (frame: Buffer) => {
    received.length = 0;
    hub.send(frame, responder.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 300));
  };

  it('answers a DHCPDISCOVER to the port it came from: a ProxyDHCPOFFER to the client with next server, boot file and PXEClient', async () => {
    await send(dhcpFrame(1));
    expect(received).toHaveLength(1);
    const frame = received[0];
    expect([...frame.subarray(0, 6)]).toEqual(CLIENT_MAC);
    expect(frame.readUInt16BE(12)).toBe(0x0800);
    // A valid IPv4 header: its checksum sums to 0xffff.
    let sum = 0;
    for (let i = 14; i < 34; i += 2) sum += frame.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    expect(sum).toBe(0xffff);
    expect([...frame.subarray(26, 30)].join('.')).toBe(PROXY_DHCP_IP);
    expect([frame.readUInt16BE(34), frame.readUInt16BE(36)]).toEqual([67, 68]);
    const bootp = frame.subarray(42);
    expect(bootp[0]).toBe(2);
    expect(bootp.readUInt32BE(4)).toBe(0x1234abcd);
    expect([...bootp.subarray(16, 20)]).toEqual([0, 0, 0, 0]); // no address: a proxy offers none
    expect([...bootp.subarray(20, 24)].join('.')).toBe('10.0.2.2');
    expect([...bootp.subarray(28, 34)]).toEqual(CLIENT_MAC);
    const opts = options(bootp);
    expect(opts.get(53)).toEqual(Buffer.from([2]));
    expect([...opts.get(54)!].join('.')).toBe(PROXY_DHCP_IP);
    expect(opts.get(60)!.toString()).toBe('PXEClient');
    expect(opts.get(67)!.toString()).toBe('boot.ipxe');
    expect(responder.answered()).toBe(1);
  });

  it('leaves every other frame alone: a DHCPREQUEST, a server reply, an ARP, a cut-off frame', async () => {
    const reply = dhcpFrame(1);
    reply[42] = 2;
    const arp = Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...CLIENT_MAC, 0x08, 0x06]), Buffer.alloc(28)]);
    for (const frame of [dhcpFrame(3), reply, arp, dhcpFrame(1).subarray(0, 200)]) {
      expect(discoverIn(frame)).toBeUndefined();
      await send(frame);
      expect(received).toEqual([]);
    }
    expect(responder.answered()).toBe(1);
  });
});
