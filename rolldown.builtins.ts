import { builtinModules } from 'node:module';
import MagicString from 'magic-string';
import type { Plugin } from 'rolldown';
import { parseAst } from 'rolldown/parseAst';

/**
 * Node's own modules taken with `process.getBuiltinModule` instead of `import` in the CLI's
 * bundle (issue #10). Importing a builtin as an ES module builds its namespace, and that reads
 * every lazy export: `import { readFileSync } from 'node:fs'` loads fs/promises, streams and
 * watchers; node:util, node:process and node:crypto likewise. A `warden list` paid about 30
 * million instructions for namespaces it never used, as much as its SQLite driver. Taken as
 * a plain object, a module is only the part that is read.
 *
 * Each chunk's `import ... from 'node:x'` lines become `const` lines in the same place (one
 * line for one, so the source maps still hold); modules are read-only objects whose exports
 * never change, so a copied binding is as good as a live one.
 */
const BUILTINS = new Set(builtinModules);

function isBuiltin(source: string): boolean {
  return source.startsWith('node:') || BUILTINS.has(source.split('/')[0] ?? source);
}

interface Specifier {
  type: string;
  local: { name: string };
  imported?: { type: string; name?: string; value?: string };
}

/** The `const` that stands for one import declaration of a builtin. */
function replacement(source: string, specifiers: readonly Specifier[]): string {
  const id = source.startsWith('node:') ? source : `node:${source}`;
  const take = `process.getBuiltinModule(${JSON.stringify(id)})`;
  if (specifiers.length === 0) return `${take};`;
  const whole = specifiers.filter((s) => s.type !== 'ImportSpecifier');
  const named = specifiers
    .filter((s) => s.type === 'ImportSpecifier')
    .map((s) => {
      const name = s.imported?.name ?? s.imported?.value ?? s.local.name;
      return name === s.local.name ? name : `${JSON.stringify(name)}: ${s.local.name}`;
    });
  const lines = whole.map((s) => `const ${s.local.name} = ${take};`);
  if (named.length > 0) lines.push(`const { ${named.join(', ')} } = ${take};`);
  return lines.join(' ');
}

export function lazyBuiltins(): Plugin {
  return {
    name: 'warden-lazy-builtins',
    renderChunk(code, chunk) {
      const program = parseAst(code, { sourceType: 'module' }, chunk.fileName);
      const out = new MagicString(code);
      let changed = false;
      for (const node of program.body) {
        if (node.type !== 'ImportDeclaration') continue;
        const source = node.source.value;
        if (!isBuiltin(source)) continue;
        out.overwrite(node.start, node.end, replacement(source, node.specifiers));
        changed = true;
      }
      if (!changed) return null;
      return { code: out.toString(), map: out.generateMap({ hires: true }) };
    },
  };
}
