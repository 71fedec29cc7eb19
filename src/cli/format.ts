/** "2026-11-28 06:12" in UTC, or "-" like the guide's Last Used column when never. */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}
