/** One parsed argument of a pre-auth command. */
export type ImapArg =
  | { kind: 'atom'; value: string }
  | { kind: 'string'; value: string; literal: boolean }
  | { kind: 'nil' }
  | { kind: 'list'; items: ImapArg[] };

export interface ImapCommand {
  tag: string;
  /** Upper-cased command name. */
  name: string;
  args: ImapArg[];
}

/** The argument as an IMAP astring (atom, quoted, literal; NIL as the text "NIL"), or null. */
export function astring(arg: ImapArg | undefined): string | null {
  if (!arg) return null;
  switch (arg.kind) {
    case 'atom':
      return arg.value;
    case 'string':
      return arg.value;
    case 'nil':
      return 'NIL';
    case 'list':
      return null;
  }
}
