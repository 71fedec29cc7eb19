import type { Store } from '../../src/store/index.js';

export interface SeedDomain {
  domain: string;
  users: number;
  /** Weights of the states: off, allowed, required, on. */
  mix: Partial<Record<'off' | 'allowed' | 'required' | 'on', number>>;
  policy?: 'allowed' | 'required' | 'disallowed';
  followEvery?: number;
}

export interface SeededDay {
  enrolments: number;
  appCodeLogins: Record<string, number>;
  refusedMainPassword: number;
  lockouts: number;
}

export function seedUsers(
  store: Store,
  spec: { now: number; domains: SeedDomain[] },
): Promise<{
  users: string[];
  states: Map<string, 'off' | 'allowed' | 'required' | 'on'>;
  counts: Record<string, Record<'off' | 'allowed' | 'required' | 'on', number>>;
}>;

export interface SeededEvent {
  at: number;
  username: string;
  event: string;
  protocol: string;
  ip: string;
  detail: Record<string, unknown>;
}

export function seedAuditEvents(
  store: Store,
  spec: { now: number; days: number; count: number; users: string[]; keep?: boolean },
): Promise<{ perDay: Record<string, SeededDay>; events: SeededEvent[] }>;
