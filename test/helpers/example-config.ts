import { readFileSync } from 'node:fs';

/** config/twostep.example.toml as shipped. */
export function exampleConfigText(): string {
  return readFileSync(new URL('../../config/twostep.example.toml', import.meta.url), 'utf8');
}

/**
 * The example with one commented-out section turned on: from its `# [name]` line to the next
 * blank line, the header and every `# key = value` line lose their `# ` (prose comments stay).
 */
export function withSectionUncommented(text: string, name: string): string {
  const lines = text.split('\n');
  const start = lines.indexOf(`# [${name}]`);
  if (start < 0) throw new Error(`no commented [${name}] section in the example`);
  lines[start] = `[${name}]`;
  for (let i = start + 1; i < lines.length && lines[i]!.trim() !== ''; i++) {
    lines[i] = lines[i]!.replace(/^# ([a-z_]+ *= )/, '$1');
  }
  return lines.join('\n');
}
