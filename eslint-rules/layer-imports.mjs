// The dependency rule of the architecture, checked on every import of src/: a file in folder A may
// import folder B only if B is in A's list (its own folder always). Relative specifiers are resolved
// against the file, so "../../store/store.js" is src/store whatever the depth. `types` lists folders
// that may be imported for types only (`import type`, `export type`).
import path from 'node:path';

/** src/<top>/... → "<top>" (src/protocols/<p>/... → "protocols/<p>"); src/main.ts → "main"; else null. */
function folderOf(file, srcRoot) {
  const rel = path.relative(srcRoot, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const parts = rel.split(path.sep);
  if (parts.length === 1) return parts[0].replace(/\.[cm]?[jt]s$/, '');
  return parts[0] === 'protocols' && parts.length > 2 ? `protocols/${parts[1]}` : parts[0];
}

export const layerImports = {
  meta: {
    type: 'problem',
    schema: [{ type: 'object', additionalProperties: true }],
    messages: { layer: '{{from}} may not import {{to}}{{types}}: {{why}}' },
  },
  create(context) {
    const { srcRoot, layers } = context.options[0];
    const from = folderOf(context.filename, srcRoot);
    const rule = from === null ? undefined : layers[from];
    if (!rule) return {};
    const check = (node, source, typeOnly) => {
      if (!source || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      const to = folderOf(path.resolve(path.dirname(context.filename), source.value), srcRoot);
      if (to === null || to === from || rule.allow.includes(to)) return;
      if (typeOnly && rule.types?.includes(to)) return;
      const types = rule.types?.includes(to) ? ' (except for types)' : '';
      context.report({ node, messageId: 'layer', data: { from: `src/${from}`, to: `src/${to}`, types, why: rule.why } });
    };
    return {
      ImportDeclaration: (n) => check(n, n.source, n.importKind === 'type' || (n.specifiers.length > 0 && n.specifiers.every((s) => s.importKind === 'type'))),
      ExportNamedDeclaration: (n) => check(n, n.source, n.exportKind === 'type'),
      ExportAllDeclaration: (n) => check(n, n.source, n.exportKind === 'type'),
      ImportExpression: (n) => check(n, n.source, false),
    };
  },
};
