import { PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LineReader, LineReadError } from '../../src/protocols/shared/line-reader.js';
import type { ImapCommand } from '../../src/protocols/imap/imap-command.js';
import { ParseError } from '../../src/protocols/shared/parse-error.js';
import { readImapCommand } from '../../src/protocols/imap/read-imap-command.js';

function setup(opts: { maxLineBytes?: number; maxTotalBytes?: number; maxLiteralBytes?: number } = {}) {
  const stream = new PassThrough();
  const reader = new LineReader(stream, { maxLineBytes: opts.maxLineBytes ?? 8192, maxTotalBytes: opts.maxTotalBytes ?? 65536 });
  let continuations = 0;
  const read = (): Promise<ImapCommand | null> =>
    readImapCommand(reader, { onLiteralContinuation: () => continuations++, maxLiteralBytes: opts.maxLiteralBytes });
  return { stream, reader, read, continuations: () => continuations };
}

async function parse(...chunks: (string | Buffer)[]): Promise<ImapCommand | null> {
  const t = setup();
  const p = t.read();
  p.catch(() => undefined); // a rejection while the chunks go in reaches the caller, not the process
  for (const c of chunks) {
    t.stream.write(c);
    await tick();
  }
  return p;
}

async function parseError(...chunks: (string | Buffer)[]): Promise<ParseError> {
  const err = await parse(...chunks).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ParseError);
  return err as ParseError;
}

describe('IMAP pre-auth command parser', () => {
  it('parses tag, upper-cased command and atoms', async () => {
    expect(await parse('a1 login alice secret\r\n')).toEqual({
      tag: 'a1',
      name: 'LOGIN',
      args: [
        { kind: 'atom', value: 'alice' },
        { kind: 'atom', value: 'secret' },
      ],
    });
    expect(await parse('x CAPABILITY\r\n')).toEqual({ tag: 'x', name: 'CAPABILITY', args: [] });
  });

  it('accepts a bare LF and ignores an empty line', async () => {
    expect((await parse('a NOOP\n'))?.name).toBe('NOOP');
    expect(await parse('\r\n')).toBeNull();
  });

  it('parses quoted strings with \\\\ and \\" escapes', async () => {
    const cmd = await parse('a LOGIN "al ice" "p\\"w\\\\d"\r\n');
    expect(cmd?.args).toEqual([
      { kind: 'string', value: 'al ice', literal: false },
      { kind: 'string', value: 'p"w\\d', literal: false },
    ]);
    expect((await parse('a LOGIN "" "pässwörd"\r\n'))?.args[1]).toEqual({ kind: 'string', value: 'pässwörd', literal: false });
  });

  it('parses NIL and nested parenthesized lists (ID)', async () => {
    const cmd = await parse('a ID ("name" "Thunderbird" "version" NIL "x" ("y" z))\r\n');
    expect(cmd?.args).toEqual([
      {
        kind: 'list',
        items: [
          { kind: 'string', value: 'name', literal: false },
          { kind: 'string', value: 'Thunderbird', literal: false },
          { kind: 'string', value: 'version', literal: false },
          { kind: 'nil' },
          { kind: 'string', value: 'x', literal: false },
          { kind: 'list', items: [{ kind: 'string', value: 'y', literal: false }, { kind: 'atom', value: 'z' }] },
        ],
      },
    ]);
    expect((await parse('a ID NIL\r\n'))?.args).toEqual([{ kind: 'nil' }]);
    expect((await parse('a ID ()\r\n'))?.args).toEqual([{ kind: 'list', items: [] }]);
  });

  it('follows a synchronising literal split across TCP chunks, asking for it once', async () => {
    const t = setup();
    const p = t.read();
    t.stream.write('a LOGIN {5}\r');
    await tick();
    expect(t.continuations()).toBe(0);
    t.stream.write('\n');
    await tick();
    expect(t.continuations()).toBe(1);
    for (const c of ['al', 'ic', 'e {3}', '\r\n', 'p', 'w\x22', '\r\n']) {
      t.stream.write(c);
      await tick();
    }
    expect((await p)?.args).toEqual([
      { kind: 'string', value: 'alice', literal: true },
      { kind: 'string', value: 'pw"', literal: true },
    ]);
    expect(t.continuations()).toBe(2);
  });

  it('reads non-synchronising literals (LITERAL+) without a continuation', async () => {
    const t = setup();
    const p = t.read();
    t.stream.write('a LOGIN {5+}\r\nalice {4+}\r\nab');
    await tick();
    t.stream.write('cd\r\n');
    expect((await p)?.args.map((a) => (a.kind === 'string' ? a.value : '?'))).toEqual(['alice', 'abcd']);
    expect(t.continuations()).toBe(0);
  });

  it('keeps the bytes after a command for the next read (pipelining)', async () => {
    const t = setup();
    t.stream.write('a NOOP\r\nb CAPABILITY\r\n');
    expect((await t.read())?.tag).toBe('a');
    expect((await t.read())?.tag).toBe('b');
  });

  it('refuses a too-big synchronising literal without asking for it (not fatal)', async () => {
    const t = setup({ maxLiteralBytes: 100 });
    t.stream.write('a LOGIN {101}\r\nb NOOP\r\n');
    const err = await t.read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).fatal).toBe(false);
    expect((err as ParseError).tag).toBe('a');
    expect((err as ParseError).reason).toBe('literal-too-big');
    expect(t.continuations()).toBe(0);
    expect((await t.read())?.tag).toBe('b'); // still in step
  });

  it('treats a too-big non-synchronising literal as fatal', async () => {
    const err = await parseError('a LOGIN {99999999+}\r\n');
    expect(err.fatal).toBe(true);
    expect(err.reason).toBe('literal-too-big');
  });

  it('refuses a huge literal size without allocating it', async () => {
    const err = await parseError('a LOGIN {9999999999}\r\n');
    expect(err.fatal).toBe(false);
    expect(await parseError('a LOGIN {99999999999}\r\n')).toBeInstanceOf(ParseError); // 11 digits: invalid literal
  });

  it.each([
    ['NUL in an atom', 'a LOGIN al\0ice pw\r\n'],
    ['NUL in a quoted string', 'a LOGIN "al\0ice" pw\r\n'],
    ['unterminated quote', 'a LOGIN "alice pw\r\n'],
    ['bad escape', 'a LOGIN "a\\lice" pw\r\n'],
    ['unbalanced open paren', 'a ID ("name" "x"\r\n'],
    ['unbalanced close paren', 'a ID "name")\r\n'],
    ['double space', 'a LOGIN  alice pw\r\n'],
    ['literal not at end of line', 'a LOGIN {5} x\r\n'],
    ['garbage after quoted', 'a LOGIN "a"b pw\r\n'],
    ['bare CR inside', 'a LOGIN al\rice pw\r\n'],
    ['invalid UTF-8', Buffer.from('a LOGIN \xff\xfe pw\r\n', 'latin1')],
  ])('rejects %s with a tagged error', async (_name, input) => {
    const err = await parseError(input);
    expect(err.tag).toBe('a');
    expect(err.fatal).toBe(false);
  });

  it('rejects a NUL inside a literal but stays in step', async () => {
    const t = setup();
    t.stream.write('a LOGIN {3+}\r\na\0b pw\r\nb NOOP\r\n');
    await expect(t.read()).rejects.toBeInstanceOf(ParseError);
    expect((await t.read())?.tag).toBe('b');
  });

  it('rejects a missing or invalid tag untagged', async () => {
    expect((await parseError('NOOP\r\n')).tag).toBe('NOOP'); // a tag without a command
    expect(await parseError('a+ NOOP\r\n')).toMatchObject({ tag: undefined, reason: 'no-tag' });
    expect(await parseError('* NOOP\r\n')).toMatchObject({ tag: undefined, reason: 'no-tag' });
  });

  it('rejects lists nested too deep', async () => {
    expect(await parseError('a ID ((((((x))))))\r\n')).toBeInstanceOf(ParseError);
  });

  it('flags an HTTP request line', async () => {
    expect((await parseError('GET / HTTP/1.1\r\n')).reason).toBe('http-request');
    expect((await parseError('POST /login HTTP/1.0\r\n')).reason).toBe('http-request');
  });

  it('fails an over-long line as soon as the cap is passed, even without LF', async () => {
    const t = setup({ maxLineBytes: 100 });
    const p = t.read().catch((e: unknown) => e);
    t.stream.write(`a LOGIN ${'x'.repeat(200)}`);
    const err = await p;
    expect(err).toBeInstanceOf(LineReadError);
    expect((err as LineReadError).reason).toBe('line-too-long');
  });

  it('caps the total bytes before login', async () => {
    const t = setup({ maxTotalBytes: 1000 });
    const p = (async () => {
      for (;;) await t.read();
    })().catch((e: unknown) => e);
    for (let i = 0; i < 200; i++) t.stream.write('a NOOP\r\n');
    const err = await p;
    expect((err as LineReadError).reason).toBe('total-too-large');
    expect(t.reader.totalBytes).toBeGreaterThan(1000);
  });

  it('reports a closed stream', async () => {
    const t = setup();
    const p = t.read().catch((e: unknown) => e);
    t.stream.end('a NOO');
    expect(((await p) as LineReadError).reason).toBe('closed');
  });
});
