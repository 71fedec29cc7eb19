// Types for the parts of daemon-tools.mjs that TypeScript helpers use.

/**
 * Calls `read()` again each time something in `folder` changes, until `ready(value)` holds or
 * `timeoutMs` passed; resolves with the last value read either way.
 */
export declare function whenChanged<T>(folder: string, read: () => T | Promise<T>, ready: (value: T) => boolean, timeoutMs: number): Promise<T>;
/** The text of the log `file` once `re` matches it (or at the deadline), woken by its changes. */
export declare function waitForFileText(file: string, re: RegExp, timeoutMs: number): Promise<string>;
