/**
 * Commander's usage error as the one line the CLI promises: "error: unknown command 'usr'" and
 * "(Did you mean user?)" on the next line become "twostep: unknown command 'usr' (did you mean user?)".
 */
export function usageErrorLine(text: string): string {
  const parts = text
    .replace(/^error: /, '')
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => s.replace(/^\(Did you mean/, '(did you mean'));
  return `twostep: ${parts.join(' ')}\n`;
}
