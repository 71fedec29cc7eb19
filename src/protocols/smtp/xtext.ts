/**
 * RFC 1891 §5 xtext, as XCLIENT attribute values need it: "+" , "=" and every octet outside
 * "!".."~" become "+HH" (upper-case hex), byte by byte of the UTF-8 encoding.
 */
export function xtext(value: string): string {
  let out = '';
  for (const b of Buffer.from(value, 'utf8')) {
    out += b >= 0x21 && b <= 0x7e && b !== 0x2b && b !== 0x3d ? String.fromCharCode(b) : `+${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * A client address as Postfix's XCLIENT ADDR wants it: IPv4 as is (also from an IPv4-mapped
 * IPv6 address), IPv6 with the "IPV6:" prefix.
 */
export function xclientAddr(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1] as string;
  return ip.includes(':') ? `IPV6:${ip}` : ip;
}
