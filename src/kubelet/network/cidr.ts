/**
 * IPv4 CIDR arithmetic for the node's pod range: parsing, the gateway (the range's first host
 * address, as the bridge plugin's default), and the host addresses pods may get.
 */

export interface Cidr4 {
  /** The network address as an unsigned 32-bit number. */
  network: number;
  prefix: number;
  /** "10.244.0.0/24", normalised. */
  text: string;
}

export function ipToInt(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4) throw new Error(`invalid IPv4 address "${ip}"`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) throw new Error(`invalid IPv4 address "${ip}"`);
    const v = Number(p);
    if (v > 255) throw new Error(`invalid IPv4 address "${ip}"`);
    n = n * 256 + v;
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses "a.b.c.d/p"; host bits must be zero; the range must hold a gateway and a pod (prefix <= 30). */
export function parseCidr(text: string): Cidr4 {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) throw new Error(`invalid CIDR "${text}": want a.b.c.d/prefix`);
  const prefix = Number(m[2]);
  if (prefix > 30)
    throw new Error(`invalid pod CIDR "${text}": prefix /${prefix} leaves no room for a gateway and pods`);
  const addr = ipToInt(m[1]!);
  const network = (addr & maskOf(prefix)) >>> 0;
  if (network !== addr) throw new Error(`invalid CIDR "${text}": host bits are set (network is ${intToIp(network)})`);
  return { network, prefix, text: `${intToIp(network)}/${prefix}` };
}

export function cidrContains(c: Cidr4, ip: string): boolean {
  return (ipToInt(ip) & maskOf(c.prefix)) >>> 0 === c.network;
}

/** The first host address: the bridge's address and the pods' default route. */
export function gatewayOf(c: Cidr4): string {
  return intToIp(c.network + 1);
}

/** First and last address a pod may get: after the gateway, before the broadcast address. */
export function podRange(c: Cidr4): { first: number; last: number } {
  const size = 2 ** (32 - c.prefix);
  return { first: c.network + 2, last: c.network + size - 2 };
}
