import { expect, it } from 'vitest';
import { TwostepError } from '../../src/core/errors.js';
import { logSafeError } from '../../src/core/log-safe-error.js';

it('keeps the message of twostep and system errors only; a foreign message (maybe quoting a password) is dropped', () => {
  expect(logSafeError(new TwostepError('BACKEND_UNAVAILABLE', 'backend did not greet'))).toEqual({
    errName: 'TwostepError',
    errCode: 'BACKEND_UNAVAILABLE',
    err: 'backend did not greet',
  });
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:143'), { code: 'ECONNREFUSED', syscall: 'connect' });
  expect(logSafeError(refused)).toEqual({ errName: 'Error', errCode: 'ECONNREFUSED', err: 'connect ECONNREFUSED 127.0.0.1:143' });
  const parse = new SyntaxError('Unexpected token in "password=hunter2-main-pw"');
  expect(logSafeError(parse)).toEqual({ errName: 'SyntaxError' });
  expect(JSON.stringify(logSafeError(parse))).not.toContain('hunter2');
  expect(logSafeError('a string')).toEqual({ errName: 'string' });
});
