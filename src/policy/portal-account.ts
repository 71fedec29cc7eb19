import { TwostepError } from '../core/errors.js';
import { decryptSecret } from '../crypto/secret-box.js';
import { totpUri } from '../crypto/totp.js';
import type { AdminPolicy, TwofaState } from '../store/types.js';
import { disable } from './admin.js';
import { appCodeList } from './app-codes.js';
import { policyOf } from './effective-policy.js';
import { totpContext, type PolicyContext } from './policy-context.js';
import type { AppCodeInfo, TotpEnrollment } from './policy-results.js';

/** What the portal's Preferences → Accounts page shows. */
export interface AccountOverview {
  username: string;
  /** null: neither the admin nor the user's domain has a policy (two-step is then not offered). */
  adminPolicy: AdminPolicy | null;
  twofaState: TwofaState;
  /** "Setup two-step authentication" is offered. */
  maySetUp: boolean;
  /** "Disable two-step authentication ..." is offered (not while the admin requires it). */
  mayDisable: boolean;
  oneTimeCodesUnused: number;
  trustedDevices: number;
  appCodes: AppCodeInfo[];
}

export async function accountOverview(ctx: PolicyContext, user: string): Promise<AccountOverview> {
  const username = ctx.adminUsername(user);
  const a = await ctx.readAccount(username);
  if (!a) {
    // No account yet: the domain's policy may still offer (or require) two-step authentication.
    const applies = await policyOf(ctx, username, undefined);
    const policy = applies.source === 'default' ? null : applies.policy;
    return { username, adminPolicy: policy, twofaState: 'off', maySetUp: policy !== null && policy !== 'disallowed', mayDisable: false, oneTimeCodesUnused: 0, trustedDevices: 0, appCodes: [] };
  }
  const on = a.twofaState === 'on';
  return ctx.wrapStore(async () => ({
    username: a.username,
    adminPolicy: a.adminPolicy,
    twofaState: a.twofaState,
    maySetUp: !on && a.adminPolicy !== 'disallowed',
    mayDisable: on && a.adminPolicy !== 'required',
    oneTimeCodesUnused: on ? await ctx.store.oneTimeCodes.countUnused(a.id) : 0,
    trustedDevices: on ? await ctx.store.trustedDevices.countActive(a.id) : 0,
    appCodes: on ? await appCodeList(ctx, a.username) : [],
  }));
}

/** The user turns two-step off (guide §10): not while the admin requires it. Same effect as `twostep disable`. */
export async function userDisable(ctx: PolicyContext, user: string): Promise<void> {
  const a = await ctx.requireOn(user);
  if (a.adminPolicy === 'required') {
    throw new TwostepError('USER_NOT_ALLOWED', 'your administrator requires two-step authentication for this account');
  }
  await disable(ctx, a.username);
}

/** The key of an enrolment in progress (to show it again on "Previous"), or null. */
export async function totpPendingKey(ctx: PolicyContext, user: string): Promise<TotpEnrollment | null> {
  const a = await ctx.requireAccount(user);
  if (a.twofaState !== 'pending' || !a.totpSecretEnc) return null;
  const key = decryptSecret(ctx.encKey, a.totpSecretEnc, totpContext(a.id));
  return { key, uri: totpUri(ctx.config.totp.issuer, a.username, key) };
}
