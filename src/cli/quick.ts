import { signal } from './worker-call.js';

/**
 * The calls a worker makes many times a run, `warden worker progress|heartbeat [--note TEXT]
 * [--json]`, parsed with Node's own `util.parseArgs` so they start without commander (issue
 * #10: a slow call can make a busy worker look silent on a loaded machine). Anything it does
 * not read exactly as commander would (help, an unknown option, a repeated `--`, ...) returns
 * null and goes to the whole program, so help and errors read the same either way.
 */
export function quickCall(argv: readonly string[]): (() => Promise<void>) | null {
  const [group, kind, ...rest] = argv;
  if (group !== 'worker' || (kind !== 'progress' && kind !== 'heartbeat')) return null;
  const { parseArgs } = process.getBuiltinModule('node:util');
  let values: { note?: string | undefined; json?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { note: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch {
    return null;
  }
  const opts = {
    ...(values.note !== undefined ? { note: values.note } : {}),
    ...(values.json ? { json: true } : {}),
  };
  return () => signal(kind, opts);
}
