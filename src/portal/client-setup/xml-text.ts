const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text for an XML element or attribute; characters XML 1.0 forbids (controls) are dropped. */
export function xmlText(s: string): string {
  // eslint-disable-next-line no-control-regex -- these are the characters XML 1.0 forbids
  return s.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, '').replace(/[&<>"']/g, (ch) => ESCAPES[ch] as string);
}
