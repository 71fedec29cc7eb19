import { describe, expect, it } from 'vitest';
import { afterAuthCommand } from '../../src/protocols/smtp/after-auth-command.js';
import { DataEnd } from '../../src/protocols/smtp/data-end.js';
import { prng } from '../helpers/fuzz.js';

const ctx = { tls: true, hostname: 'mx.example', ehlo: ['mx.example', 'PIPELINING', 'AUTH PLAIN LOGIN'] };

describe('SMTP after AUTH: what twostep does with each command line', () => {
  it('keeps XCLIENT, XFORWARD, AUTH and STARTTLS from Postfix, however they are spelled', () => {
    for (const line of ['XCLIENT LOGIN=alice', 'xclient login=alice', ' \tXClient LOGIN=a', 'XCLIENT\0 LOGIN=alice', 'XCLIENT\rLOGIN=alice']) {
      expect(afterAuthCommand(line, ctx)).toEqual({ do: 'answer', lines: ['550 5.7.0 Error: insufficient authorization'], refused: 'XCLIENT' });
    }
    expect(afterAuthCommand('XFORWARD ADDR=6.6.6.6', ctx)).toMatchObject({ do: 'answer', refused: 'XFORWARD' });
    expect(afterAuthCommand('AUTH PLAIN eHl6', ctx)).toEqual({ do: 'answer', lines: ['503 5.5.1 Error: already authenticated'], refused: 'AUTH' });
    expect(afterAuthCommand('STARTTLS', ctx)).toMatchObject({ lines: ['554 5.5.1 Error: TLS already active'] });
    expect(afterAuthCommand('STARTTLS', { ...ctx, tls: false })).toMatchObject({ lines: ['502 5.5.1 Error: command not implemented'] });
  });

  it('answers EHLO with the list the client saw and HELO with the name; relays the rest', () => {
    expect(afterAuthCommand('EHLO me.example', ctx)).toEqual({ do: 'hello', lines: ['250-mx.example', '250-PIPELINING', '250 AUTH PLAIN LOGIN'] });
    expect(afterAuthCommand('helo me.example', ctx)).toEqual({ do: 'hello', lines: ['250 mx.example'] });
    expect(afterAuthCommand('EHLO', ctx)).toEqual({ do: 'answer', lines: ['501 5.5.4 Syntax: EHLO hostname'] });
    expect(afterAuthCommand('MAIL FROM:<a@b>', ctx)).toEqual({ do: 'relay' });
    expect(afterAuthCommand('XCLIENTX', ctx)).toEqual({ do: 'relay' });
    expect(afterAuthCommand('DATA', ctx)).toEqual({ do: 'data' });
  });

  it('reads BDAT sizes as Postfix does, and hangs up where Postfix would', () => {
    expect(afterAuthCommand('BDAT 100', ctx)).toEqual({ do: 'bdat', size: 100 });
    expect(afterAuthCommand('bdat 0 last', ctx)).toEqual({ do: 'bdat', size: 0 });
    for (const line of ['BDAT', 'BDAT x', 'BDAT 5 FIRST', 'BDAT 5 LAST x', 'BDAT -5', 'BDAT 1234567890123456']) {
      expect(afterAuthCommand(line, ctx)).toEqual({ do: 'hang-up', line: '521 5.5.4 Syntax: BDAT count [LAST]' });
    }
  });
});

describe('the end of a DATA payload', () => {
  const ends = (...chunks: string[]): number[] => {
    const d = new DataEnd();
    return chunks.map((c) => d.find(Buffer.from(c, 'latin1')));
  };

  it('is a "." line ended by LF, with or without CR, as Postfix 3.7 ends it', () => {
    expect(ends('a\r\n.\r\nQUIT\r\n')).toEqual([6]);
    expect(ends('a\n.\nQUIT')).toEqual([4]);
    expect(ends('.\r\n')).toEqual([3]); // an empty message
    expect(ends('a\r\n..\r\n.x\r\n.\r')).toEqual([-1]);
  });

  it('is found across chunk boundaries', () => {
    expect(ends('a\r', '\n', '.', '\r', '\nrest')).toEqual([-1, -1, -1, -1, 1]);
    expect(ends('line\r\n', '.\r\n')).toEqual([-1, 3]);
    expect(ends('x\r\n.', 'y\r\n.\n')).toEqual([-1, 5]);
  });

  it('agrees with a byte-by-byte reading on 20,000 random payloads cut at random points', () => {
    /** Where a reader taking one byte at a time ends the data ("." then LF or CR LF at a line start). */
    const reference = (t: string): number => {
      for (let i = 0, lineStart = true; i < t.length; lineStart = t[i] === '\n', i++) {
        if (lineStart && t.startsWith('.\n', i)) return i + 2;
        if (lineStart && t.startsWith('.\r\n', i)) return i + 3;
      }
      return -1;
    };
    const random = prng(1234);
    const pick = (n: number) => Math.floor(random() * n);
    for (let round = 0; round < 20_000; round++) {
      const text = Array.from({ length: pick(20) }, () => 'a.\r\n'[pick(4)]).join('');
      const d = new DataEnd();
      let found = -1;
      for (let at = 0; at < text.length && found < 0; ) {
        const cut = Math.min(text.length, at + 1 + pick(4));
        const r = d.find(Buffer.from(text.slice(at, cut), 'latin1'));
        if (r >= 0) found = at + r;
        at = cut;
      }
      expect({ text, found }).toEqual({ text, found: reference(text) });
    }
  });
});
