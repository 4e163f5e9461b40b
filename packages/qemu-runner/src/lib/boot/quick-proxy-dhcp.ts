// A ProxyDHCP server on the initiator's user network that ends the stock iPXE
// ROM's wait for one. After QEMU's DHCP server offers an address, iPXE waits
// up to 2 s (DHCP_DISC_PROXY_TIMEOUT_SEC; 3.1 s with its timer's steps) for a
// ProxyDHCPOFFER that slirp never sends. Debian's prebuilt ROMs cannot be
// configured, and slirp cannot send iPXE's "no ProxyDHCP" option (175.176).
// This responder answers each DHCPDISCOVER at once with a ProxyDHCPOFFER,
// as a PXE boot server beside a DHCP server does on real networks, carrying
// only what QEMU's DHCP server already hands out (next server and boot file):
// iPXE then requests its address at once and registers the offer as
// "proxydhcp" settings. What iPXE writes into the iBFT comes from net0's own
// DHCP settings, so the table is the same (the boot e2e compares it byte for
// byte). It joins the network through a QEMU hub (vm-spec `hubSocket`).
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

const ETHERTYPE_IPV4 = 0x0800;
const UDP = 17;
const BOOTPS = 67;
const BOOTPC = 68;
const BOOTREQUEST = 1;
const BOOTREPLY = 2;
const DHCP_MAGIC = 0x63825363;
const DHCPDISCOVER = 1;
const DHCPOFFER = 2;
/** The responder's own addresses on QEMU's 10.0.2.0/24: one slirp does not use (10.0.2.2 gateway, .3 DNS, .15 on leases). */
export const PROXY_DHCP_IP = '10.0.2.5';
const PROXY_DHCP_MAC = [0x52, 0x55, 0x0a, 0x00, 0x02, 0x05];

export interface ProxyDhcpOffer {
  /** The next server (BOOTP siaddr) QEMU's DHCP server names: 10.0.2.2. */
  nextServer: string;
  /** The boot file QEMU's DHCP server names (its `bootfile`). */
  bootfile: string;
}

export interface QuickProxyDhcp {
  /** The UDP port on 127.0.0.1 QEMU's hub socket sends its frames to. */
  port: number;
  /** How many DHCPDISCOVERs it answered. */
  answered(): number;
  close(): Promise<void>;
}

function ipBytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** RFC 1071 checksum over an IPv4 header. */
function ipChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += (header[i] << 8) + (header[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The BOOTP part of an Ethernet frame carrying a DHCPDISCOVER, if it is one. */
export function discoverIn(frame: Buffer): Buffer | undefined {
  if (frame.length < 14 + 20 + 8 + 240 || frame.readUInt16BE(12) !== ETHERTYPE_IPV4) return undefined;
  const ip = 14;
  const ipHeaderLength = (frame[ip] & 0x0f) * 4;
  if (frame[ip + 9] !== UDP) return undefined;
  const udp = ip + ipHeaderLength;
  if (frame.length < udp + 8 + 240 || frame.readUInt16BE(udp + 2) !== BOOTPS) return undefined;
  const bootp = frame.subarray(udp + 8);
  if (bootp[0] !== BOOTREQUEST || bootp.readUInt32BE(236) !== DHCP_MAGIC) return undefined;
  for (let o = 240; o < bootp.length && bootp[o] !== 255; ) {
    if (bootp[o] === 0) {
      o++;
      continue;
    }
    if (o + 1 >= bootp.length) return undefined;
    if (bootp[o] === 53) return bootp[o + 2] === DHCPDISCOVER ? bootp : undefined;
    o += 2 + bootp[o + 1];
  }
  return undefined;
}

/** The Ethernet frame of a ProxyDHCPOFFER answering `discover` (its BOOTP part): to the client, from PROXY_DHCP_IP. */
export function proxyOfferFrame(discover: Buffer, offer: ProxyDhcpOffer): Buffer {
  const bootp = Buffer.alloc(240);
  bootp[0] = BOOTREPLY;
  bootp[1] = 1; // Ethernet
  bootp[2] = 6;
  discover.copy(bootp, 4, 4, 8); // xid
  Buffer.from(ipBytes(offer.nextServer)).copy(bootp, 20); // siaddr
  discover.copy(bootp, 28, 28, 44); // chaddr
  bootp.writeUInt32BE(DHCP_MAGIC, 236);
  const file = Buffer.from(offer.bootfile, 'latin1');
  if (file.length === 0 || file.length > 255) throw new Error(`bootfile: ${JSON.stringify(offer.bootfile)} must be 1 to 255 bytes`);
  // Message type, server identifier, "PXEClient" (what makes it a ProxyDHCP offer), boot file: iPXE takes
  // next server + boot file as PXE options present and asks the proxy nothing more (no ProxyDHCPREQUEST).
  const options = Buffer.from([53, 1, DHCPOFFER, 54, 4, ...ipBytes(PROXY_DHCP_IP), 60, 9, ...Buffer.from('PXEClient'), 67, file.length, ...file, 255]);
  const payload = Buffer.concat([bootp, options]);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(BOOTPS, 0);
  udp.writeUInt16BE(BOOTPC, 2);
  udp.writeUInt16BE(8 + payload.length, 4); // checksum 0: none, as UDP over IPv4 allows
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64;
  ip[9] = UDP;
  Buffer.from(ipBytes(PROXY_DHCP_IP)).copy(ip, 12);
  Buffer.from([255, 255, 255, 255]).copy(ip, 16);
  ip.writeUInt16BE(ipChecksum(ip), 10);
  const ethernet = Buffer.alloc(14);
  discover.copy(ethernet, 0, 28, 34); // the client's MAC
  Buffer.from(PROXY_DHCP_MAC).copy(ethernet, 6);
  ethernet.writeUInt16BE(ETHERTYPE_IPV4, 12);
  return Buffer.concat([ethernet, ip, udp, payload]);
}

/** Listens on a free 127.0.0.1 UDP port for the frames of QEMU's hub socket and answers each DHCPDISCOVER. */
export async function startQuickProxyDhcp(offer: ProxyDhcpOffer): Promise<QuickProxyDhcp> {
  const socket: Socket = createSocket('udp4');
  let answered = 0;
  socket.on('message', (frame: Buffer, from: RemoteInfo) => {
    const discover = discoverIn(frame);
    if (!discover) return;
    answered++;
    // QEMU's socket netdev takes frames from any sender; it sends from the port it bound.
    socket.send(proxyOfferFrame(discover, offer), from.port, '127.0.0.1');
  });
  // A late frame after close, or a send to a QEMU that is gone, must not throw in the run.
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return {
    port: socket.address().port,
    answered: () => answered,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
