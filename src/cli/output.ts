/** Everything the CLI prints goes through here, so tests can capture it and --json stays stable. */
export interface Output {
  line(text?: string): void;
  json(value: unknown): void;
}

export const stdout: Output = {
  line(text = '') {
    process.stdout.write(`${text}\n`);
  },
  json(value) {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  },
};

/** A warning on stderr, one line: "twostep: warning: ...". The command goes on. */
export function warn(text: string): void {
  process.stderr.write(`twostep: warning: ${text}\n`);
}

/** A fixed-width text table (header + rows), like `ls -l`: no colours, no box drawing. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)];
}
