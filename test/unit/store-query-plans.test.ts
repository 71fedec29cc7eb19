import { describe, expect, it } from 'vitest';
import { ACCOUNT_LOGIN_SQL } from '../../src/store/accounts-repo.js';
import { APP_CODE_LOGIN_SQL } from '../../src/store/app-codes-repo.js';
import { openStore } from '../../src/store/index.js';

/** The plan's detail lines (SQLite: "SEARCH t USING INDEX ...", "SCAN t", ...). */
function plan(sql: string, params: unknown[]): string[] {
  const store = openStore(':memory:');
  try {
    return store.db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((r) => (r as { detail: string }).detail);
  } finally {
    store.close();
  }
}

describe('login path queries use indexes only (login time must not grow with the store)', () => {
  it('account by name: the unique index on username', () => {
    const p = plan(ACCOUNT_LOGIN_SQL.accountByName, ['alice']);
    expect(p.join('\n')).toMatch(/SEARCH accounts USING INDEX/);
    expect(p.join('\n')).not.toMatch(/SCAN accounts/);
  });

  it('active code by lookup: an index, never a scan of app_codes', () => {
    const p = plan(APP_CODE_LOGIN_SQL.activeByLookup, [1, 'x']);
    expect(p.join('\n')).toMatch(/SEARCH app_codes USING INDEX/);
    expect(p.join('\n')).not.toMatch(/SCAN app_codes/);
  });

  it('still valid: primary keys of app_codes and accounts (only the JSON id list is scanned)', () => {
    const p = plan(APP_CODE_LOGIN_SQL.stillValid, ['[1]']);
    const text = p.join('\n');
    expect(text).toMatch(/SEARCH c USING INTEGER PRIMARY KEY/);
    expect(text).toMatch(/SEARCH a USING INTEGER PRIMARY KEY/);
    expect(p.filter((d) => /^SCAN /.test(d)).every((d) => /json_each/.test(d))).toBe(true);
  });
});
