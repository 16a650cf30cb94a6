import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestHome, fixture, waitFor } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

/**
 * What holds up a whole home, said by `doctor` before its tasks, and by `stop` at once: a
 * trial's `doctor` said "serve is running" of a serve under SIGSTOP, whose `stop` then hung
 * 40 s, and showed limits from a config.json that serve had not read.
 */
describe('doctor and stop on the state of the home', () => {
  it('say that serve is stopped, and stop refuses at once instead of hanging', async () => {
    home = await new TestHome().init();
    await home.profile('sleeper', fixture('sleeper.sh', '60'));
    const id = await home.task('sleeps', ['--assignee', 'sleeper']);
    const serve = await home.serve();
    await waitFor('the worker to start', () =>
      home.lifeLines().find((l) => l.task === id && l.event === 'start'),
    );
    const pid = serve.proc.pid ?? -1;
    serve.proc.kill('SIGSTOP');
    try {
      const doctor = await home.cli(['doctor']);
      expect(doctor.code, doctor.stderr).toBe(0);
      expect(doctor.stdout.split('\n')[0]).toBe('serve is there but stopped');
      expect(doctor.stdout).toContain(
        `serve (pid ${pid}) is stopped (SIGSTOP, Ctrl-Z or a debugger): it watches nothing, starts nothing and answers no worker until it continues: \`kill -CONT ${pid}\``,
      );
      const stop = await home.cli(['stop', String(id)]);
      expect(stop.code).toBe(4);
      expect(stop.stderr.trim().split('\n')).toHaveLength(1);
      expect(stop.stderr).toContain(`warden serve (pid ${pid}) is stopped`);
      expect((await home.runs(id))[0]?.state).toBe('running');
    } finally {
      serve.proc.kill('SIGCONT');
    }
    await home.ok(['stop', String(id)]);
  });

  it('says config.json changed after serve read it', async () => {
    home = await new TestHome().init();
    await home.serve();
    expect((await home.cli(['doctor'])).stdout).not.toContain('config.json was changed');
    writeFileSync(join(home.root, 'config.json'), '{"policy": {"max_runtime": "1m"}}\n');
    const doctor = await home.cli(['doctor']);
    expect(doctor.code, doctor.stderr).toBe(0);
    expect(doctor.stdout).toMatch(
      /config\.json was changed \S+ ago, after serve started: serve still uses the file as it read it then, while the limits below are the file's as it is now; restart serve to apply it/,
    );
  });
});
