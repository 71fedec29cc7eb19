import { TwostepError } from '../../core/errors.js';

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

/**
 * A command line the parser refused. `fatal` errors leave the stream unsynchronised (a
 * non-synchronising literal we will not read): the session must close. `tag` is set when the
 * tag was readable, so the reply can be tagged.
 */
export class ImapSyntaxError extends TwostepError {
  readonly tag: string | undefined;
  readonly fatal: boolean;
  /** Parsed command name, when known (for "Error in IMAP command X: ..."). */
  readonly command: string | undefined;
  /** A client speaking HTTP to the IMAP port (fail closed, no reply). */
  readonly http: boolean;

  constructor(
    message: string,
    o: { tag?: string; command?: string; fatal?: boolean; http?: boolean } = {},
  ) {
    super('INVALID_INPUT', message);
    this.name = 'ImapSyntaxError';
    this.tag = o.tag;
    this.command = o.command;
    this.fatal = o.fatal ?? false;
    this.http = o.http ?? false;
  }
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
