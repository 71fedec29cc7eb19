import type { DomainPolicy, DomainsRepo } from '../console-store.js';
import type { AdminPolicy } from '../types.js';
import { PgRepo } from './pg-repo.js';
import { toDomain, type DomainRow as Row } from '../domain-rows.js';


/** See DomainsRepo. */
export class PgDomainsRepo extends PgRepo implements DomainsRepo {
  async find(domain: string): Promise<DomainPolicy | undefined> {
    const r = await this.one<Row>('SELECT * FROM domain_policies WHERE domain = $1', [domain]);
    return r && toDomain(r);
  }

  async list(): Promise<DomainPolicy[]> {
    return (await this.x.q<Row>('SELECT * FROM domain_policies ORDER BY domain COLLATE "C"')).rows.map(toDomain);
  }

  async set(domain: string, policy: AdminPolicy, now: number): Promise<void> {
    await this.x.q(
      `INSERT INTO domain_policies (domain, policy, created_at, updated_at) VALUES ($1, $2, $3, $3)
       ON CONFLICT (domain) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at`,
      [domain, policy, now],
    );
  }

  async delete(domain: string): Promise<boolean> {
    return (await this.changed('DELETE FROM domain_policies WHERE domain = $1', [domain])) === 1;
  }
}
