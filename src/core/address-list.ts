import { BlockList, isIP } from 'node:net';

/** "203.0.113.7", "2001:db8::1", "10.0.0.0/8" or "2001:db8::/32". */
export function isAddressOrNetwork(text: string): boolean {
  const [addr, bits, extra] = text.split('/');
  if (extra !== undefined || !addr) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** An IPv4-mapped IPv6 address (::ffff:10.0.0.5, as a dual-stack socket reports it) as IPv4. */
export function plainIp(ip: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return m ? (m[1] as string) : ip;
}

/**
 * A set of addresses and networks (config lists such as [server] proxy_protocol_from), checked
 * with net.BlockList; entries must pass isAddressOrNetwork.
 */
export class AddressList {
  readonly #list = new BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const e of entries) {
      const [addr, bits] = e.split('/') as [string, string | undefined];
      const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.#list.addAddress(addr, type);
      else this.#list.addSubnet(addr, Number(bits), type);
    }
    this.size = entries.length;
  }

  has(ip: string): boolean {
    const a = plainIp(ip);
    const family = isIP(a);
    if (family === 0) return false;
    return this.#list.check(a, family === 6 ? 'ipv6' : 'ipv4');
  }
}
