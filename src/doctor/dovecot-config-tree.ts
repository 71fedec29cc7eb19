/**
 * `doveconf -n` output as a tree: settings (key = value) and sections (`passdb {`,
 * `service imap-login {`, `inet_listener imap {`, `protocol lmtp {`), in the order printed.
 * doveconf -n has already resolved includes and variables; lines it cannot read are skipped.
 */
export interface ConfSection {
  /** First word of the section line ('passdb', 'service', 'protocol', ...); '' for the root. */
  type: string;
  /** The rest of the section line ('imap-login'), '' when none. */
  name: string;
  settings: Map<string, string>;
  sections: ConfSection[];
}

export function parseDoveconf(text: string): ConfSection {
  const root: ConfSection = { type: '', name: '', settings: new Map(), sections: [] };
  const stack: ConfSection[] = [root];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const top = stack[stack.length - 1] as ConfSection;
    const setting = /^([^\s=]+) =(?: (.*))?$/.exec(line);
    if (setting) {
      top.settings.set(setting[1] as string, unquote(setting[2] ?? ''));
    } else if (line === '}') {
      if (stack.length > 1) stack.pop();
    } else if (line.endsWith('{')) {
      const words = line.slice(0, -1).trim().split(/\s+/);
      const section: ConfSection = { type: words[0] ?? '', name: words.slice(1).join(' '), settings: new Map(), sections: [] };
      top.sections.push(section);
      stack.push(section);
    }
  }
  return root;
}

/** Sections of one type, directly below `s`. */
export function sectionsOf(s: ConfSection, type: string, name?: string): ConfSection[] {
  return s.sections.filter((c) => c.type === type && (name === undefined || c.name === name));
}

/** doveconf quotes values with leading or trailing spaces: `protocols = " imap lmtp"`. */
function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}
