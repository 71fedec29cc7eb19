import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { ACCOUNT_LOGIN_SQL, APP_CODE_LOGIN_SQL, testOnlyRawDatabase } from '../../src/store/sqlite/index.js';

/** The plan's detail lines (SQLite: "SEARCH t USING INDEX ...", "SCAN t", ...). */
async function plan(sql: string, params: unknown[]): Promise<string[]> {
  const store = await openStore(':memory:');
  try {
    return testOnlyRawDatabase(store)
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((r) => (r as { detail: string }).detail);
  } finally {
    await store.close();
  }
}

describe('login path queries use indexes only (login time must not grow with the store)', () => {
  it('account by name: the unique index on username', async () => {
    const p = await plan(ACCOUNT_LOGIN_SQL.accountByName, ['alice']);
    expect(p.join('\n')).toMatch(/SEARCH accounts USING INDEX/);
    expect(p.join('\n')).not.toMatch(/SCAN accounts/);
  });

  it('active code by lookup: an index, never a scan of app_codes', async () => {
    const p = await plan(APP_CODE_LOGIN_SQL.activeByLookup, [1, 'x']);
    expect(p.join('\n')).toMatch(/SEARCH app_codes USING INDEX/);
    expect(p.join('\n')).not.toMatch(/SCAN app_codes/);
  });

  it('still valid: primary keys of app_codes and accounts (only the JSON id list is scanned)', async () => {
    const p = await plan(APP_CODE_LOGIN_SQL.stillValid, ['[1]']);
    const text = p.join('\n');
    expect(text).toMatch(/SEARCH c USING INTEGER PRIMARY KEY/);
    expect(text).toMatch(/SEARCH a USING INTEGER PRIMARY KEY/);
    expect(p.filter((d) => /^SCAN /.test(d)).every((d) => /json_each/.test(d))).toBe(true);
  });
});
