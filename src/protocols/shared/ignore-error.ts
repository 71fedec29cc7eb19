/**
 * The 'error' listener of a socket whose faults are reported elsewhere (by its reads, its
 * 'close'). One module-level function for all of them: an arrow made inside a function keeps
 * that function's variables (a backend login's reader and buffers, say) alive for as long as the
 * socket lives, which is the whole session.
 */
export function ignoreError(): void {
  // nothing: see above
}
