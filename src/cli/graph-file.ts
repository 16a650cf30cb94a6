import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { INPUT_LIMITS } from '../core/defaults.js';
import { invalid } from '../core/errors.js';

/** How a graph file is read: by its extension, else by its first character. */
function formatOf(path: string, text: string): 'json' | 'yaml' {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return /^\s*[{[]/.test(text) ? 'json' : 'yaml';
}

function readText(path: string): string {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw invalid(`${path}: not a file; give a YAML or JSON file of tasks`);
    size = stat.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw invalid(`${path}: no such file`);
    if (code === 'EACCES') throw invalid(`${path}: permission denied`);
    throw err;
  }
  if (size > INPUT_LIMITS.apply_max_bytes) {
    throw invalid(
      `${path}: ${size} bytes; a graph file may be at most ${INPUT_LIMITS.apply_max_bytes}, split it in several files`,
    );
  }
  return readFileSync(path, 'utf8');
}

/**
 * Reads a task graph file (`warden apply FILE`): JSON by `.json` or a leading `{`, else YAML
 * (the `yaml` package, loaded only here; duplicate keys refused). Any problem is one `invalid`
 * line naming the file and, for a syntax error, the line.
 */
export async function readGraphFile(path: string): Promise<unknown> {
  const text = readText(path);
  if (formatOf(path, text) === 'json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw invalid(`${path}: not valid JSON: ${(err as Error).message}`);
    }
  }
  const { parse, YAMLError } = await import('yaml');
  try {
    return parse(text, { uniqueKeys: true }) as unknown;
  } catch (err) {
    if (err instanceof YAMLError) {
      // The message already says where (`... at line 4, column 1:`), then quotes the lines.
      const first = (err.message.split('\n')[0] ?? '').replace(/:$/, '');
      throw invalid(`${path}: not valid YAML: ${first}`);
    }
    throw err;
  }
}
