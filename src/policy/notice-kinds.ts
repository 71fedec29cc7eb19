import type { NotifyConfig } from '../config/notify-schema.js';

/** Every mail notice a user can get (see MailNotice); src/notify/notice-text.ts words each one. */
export const NOTICE_KINDS = [
  'two-step-on',
  'two-step-off',
  'app-code-added',
  'app-code-revoked',
  'one-time-codes-regenerated',
  'one-time-code-used',
  'new-browser',
  'new-network',
  'account-locked',
  'code-expiring',
] as const;

export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** The [notify] switch that turns each kind on or off. */
export const NOTICE_SWITCH: Record<NoticeKind, keyof NotifyConfig> = {
  'two-step-on': 'two_step_changes',
  'two-step-off': 'two_step_changes',
  'app-code-added': 'app_code_changes',
  'app-code-revoked': 'app_code_changes',
  'one-time-codes-regenerated': 'one_time_codes',
  'one-time-code-used': 'one_time_codes',
  'new-browser': 'new_browser',
  'new-network': 'new_network',
  'account-locked': 'account_locked',
  'code-expiring': 'code_expiring',
};

export function isNoticeKind(k: string): k is NoticeKind {
  return (NOTICE_KINDS as readonly string[]).includes(k);
}
