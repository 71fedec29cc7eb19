import type { AdminPolicy, PolicySource, RolloutState } from '../../policy/index.js';
import { html, type SafeHtml } from './html.js';

/** The words the admin console uses for policies, states and where a policy comes from. */
export const POLICY_LABELS: Record<AdminPolicy, string> = { allowed: 'Allowed', required: 'Required', disallowed: 'Not allowed' };
export const TWOFA_LABELS = { off: 'Off', pending: 'Setting up', on: 'On' } as const;
export const STATE_LABELS: Record<RolloutState, string> = {
  off: 'Not allowed',
  allowed: 'Allowed, not set up',
  required: 'Required, not set up',
  on: 'On',
};
export const SOURCE_LABELS: Record<PolicySource, string> = { user: 'own setting', domain: 'domain', default: 'default' };

/** The value of the policy select that means "no setting of the user's own: the domain's applies". */
export const FOLLOW_DOMAIN = 'domain';

/** A <select> of these (value, label) options. */
export function selectOf(id: string, name: string, options: readonly (readonly [string, string])[], selected: string | undefined): SafeHtml {
  return html`<select id="${id}" name="${name}">${options.map(
    ([value, label]) => html`<option value="${value}"${value === selected ? html` selected` : html``}>${label}</option>`,
  )}</select>`;
}

const POLICY_OPTIONS = Object.entries<string>(POLICY_LABELS);

/**
 * The policy select: allowed / required / not allowed, and (withDomain) "Domain default" for a
 * user who should follow their domain.
 */
export function policySelect(id: string, selected: string | undefined, withDomain: boolean): SafeHtml {
  return selectOf(id, 'policy', withDomain ? [[FOLLOW_DOMAIN, 'Domain default'], ...POLICY_OPTIONS] : POLICY_OPTIONS, selected);
}

/** A domain's policy select: allowed / required / not allowed, or "No domain policy" (value 'none'). */
export function domainPolicySelect(id: string, selected: string): SafeHtml {
  return selectOf(id, 'policy', [...POLICY_OPTIONS, ['none', 'No domain policy']], selected);
}

/** A query string of these parameters (empty ones left out), with a leading "?" when not empty. */
export function queryString(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** "Previous" / "Next" links of a keyset-paged list (a plain link each; absent at either end). */
export function pager(path: string, params: Record<string, string | undefined>, prev: string | null, next: string | null): SafeHtml {
  const link = (rel: 'prev' | 'next', pos: string, text: string) =>
    html`<a rel="${rel}" class="button secondary" href="${path}${queryString({ ...params, [rel === 'prev' ? 'before' : 'after']: pos })}">${text}</a>`;
  if (prev === null && next === null) return html``;
  return html`<nav class="pager" aria-label="Pages">${prev === null ? html`` : link('prev', prev, '← Previous')} ${next === null ? html`` : link('next', next, 'Next →')}</nav>`;
}

/** A whole number with thousands separators ("100,000"). */
export const count = (n: number): string => n.toLocaleString('en-US');
