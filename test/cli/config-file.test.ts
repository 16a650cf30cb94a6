/*
 * config.json (docs/operations.md "The config file"): a file that is not JSON, an unknown
 * key, a wrong type or a bad value is refused by every command, in one line that names the
 * file once and the field, ending with what to do; exit 1; nothing stored changes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectError, freshHome } from '../helpers/cli.js';

describe('a bad config.json', () => {
  it.concurrent('is refused in one line naming the file once and the field', async (ctx) => {
    const cli = await freshHome(ctx);
    await cli.json(['create', 'kept']);
    const before = cli.dbSnapshot();
    const file = join(cli.home, 'config.json');
    const once = (field: string, what: string): RegExp =>
      new RegExp(
        `^warden: ${file.replace(/[.]/g, '\\.')}: ${field}: ${what}; fix or remove it\\n$`,
      );
    const cases: [string, RegExp][] = [
      [
        '{"policy": {"stall_timeout": "0.4ms"}}',
        once('policy\\.stall_timeout', "'0\\.4ms' is shorter than 1ms; .+"),
      ],
      ['{"policy": {"log_cap": "zz"}}', once('policy\\.log_cap', "'zz' is not a size; .+")],
      ['{"serve": {"port": "80"}}', once('serve\\.port', '.+')],
      ['{"colour": "blue"}', once('config', '.*colour.*')],
    ];
    for (const [text, message] of cases) {
      writeFileSync(file, text);
      expectError(await cli.run(['list']), 1, message, text);
      expectError(await cli.run(['create', 'not made']), 1, message, text);
    }
    writeFileSync(file, '{"serve": ');
    expectError(
      await cli.run(['list']),
      1,
      new RegExp(
        `^warden: ${file.replace(/[.]/g, '\\.')}: not valid JSON \\(.+\\); fix or remove it\\n$`,
      ),
    );
    expect(cli.dbSnapshot()).toEqual(before);
  });
});
