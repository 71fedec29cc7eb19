import type { Database } from 'better-sqlite3';
import type { DomainPolicy, DomainsRepo } from '../console-store.js';
import type { AdminPolicy } from '../types.js';
import { SqliteRepo } from './sqlite-repo.js';
import { toDomain, type DomainRow as Row } from '../domain-rows.js';


export function domainStatements(db: Database) {
  return {
    find: db.prepare<[string], Row>('SELECT * FROM domain_policies WHERE domain = ?'),
    list: db.prepare<[], Row>('SELECT * FROM domain_policies ORDER BY domain'),
    set: db.prepare<[{ domain: string; policy: AdminPolicy; now: number }]>(
      `INSERT INTO domain_policies (domain, policy, created_at, updated_at) VALUES (@domain, @policy, @now, @now)
       ON CONFLICT (domain) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at`,
    ),
    delete: db.prepare<[string]>('DELETE FROM domain_policies WHERE domain = ?'),
  };
}

/** See DomainsRepo. */
export class SqliteDomainsRepo extends SqliteRepo<ReturnType<typeof domainStatements>> implements DomainsRepo {
  find(domain: string): Promise<DomainPolicy | undefined> {
    return this.x.run(() => {
      const r = this.s.find.get(domain);
      return r && toDomain(r);
    });
  }

  list(): Promise<DomainPolicy[]> {
    return this.x.run(() => this.s.list.all().map(toDomain));
  }

  set(domain: string, policy: AdminPolicy, now: number): Promise<void> {
    return this.x.run(() => void this.s.set.run({ domain, policy, now }));
  }

  delete(domain: string): Promise<boolean> {
    return this.x.run(() => this.s.delete.run(domain).changes === 1);
  }
}
