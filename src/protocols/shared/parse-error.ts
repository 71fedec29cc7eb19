import { TwostepError } from '../../core/errors.js';

/**
 * Why a command line was refused by its parser:
 * - http-request: a web request to a mail port (answered with silence and a close);
 * - empty: a blank line where POP3 or SMTP wants a command;
 * - syntax: not the protocol's command shape (IMAP: the detail says what);
 * - encoding: invalid UTF-8 or a control character;
 * - no-tag: IMAP, the line has no readable tag to answer to;
 * - literal-too-big: IMAP, a literal above limits.preAuthLiteralBytes.
 */
export type ParseFailure = 'http-request' | 'empty' | 'syntax' | 'encoding' | 'no-tag' | 'literal-too-big';

/**
 * The one error every command reader throws for a line it refuses; the session skeleton turns
 * it into the protocol's reply at one place (its refusal table). `fatal`: the stream cannot be
 * followed any more (IMAP: a non-synchronising literal we will not read), the session ends.
 */
export class ParseError extends TwostepError {
  readonly reason: ParseFailure;
  /** IMAP: the tag, when it was readable, so the reply can be tagged. */
  readonly tag: string | undefined;
  /** IMAP: the command name, when known ("Error in IMAP command X: ..."). */
  readonly command: string | undefined;
  readonly fatal: boolean;

  /** `detail` is the parser's words (IMAP says them in its BAD reply, as Dovecot does). */
  constructor(reason: ParseFailure, detail: string, o: { tag?: string; command?: string; fatal?: boolean } = {}) {
    super('INVALID_INPUT', detail);
    this.name = 'ParseError';
    this.reason = reason;
    this.tag = o.tag;
    this.command = o.command;
    this.fatal = o.fatal ?? false;
  }
}
