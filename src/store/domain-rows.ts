import type { DomainPolicy } from './console-store.js';
import type { AdminPolicy } from './types.js';

/** A row of domain_policies, as both databases return it (same columns, times as numbers). */
export interface DomainRow {
  domain: string;
  policy: AdminPolicy;
  created_at: number;
  updated_at: number;
}

export const toDomain = (r: DomainRow): DomainPolicy => ({ domain: r.domain, policy: r.policy, createdAt: r.created_at, updatedAt: r.updated_at });
