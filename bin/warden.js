#!/usr/bin/env node
// The `warden` executable: the bundled CLI in dist/bundle/ (built by `npm run build`).

// An older Node fails in ways that name nothing useful (its native SQLite module may even
// crash it): say what is needed first. Written so any Node can parse it.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  process.stderr.write(
    'warden: needs Node.js 22.13 or later, and this is ' +
      process.version +
      ' (' +
      process.execPath +
      '); put a newer node first on PATH\n',
  );
  process.exit(1);
}
const module = process.getBuiltinModule('node:module');

// Workers call `warden worker ...` many times a run, so reuse V8's compiled code between
// calls. The cache lives under os.tmpdir() (or NODE_COMPILE_CACHE), never in HOME, and is
// only an optimisation: Node reports a failure to enable it rather than throwing, and an
// older Node without the function simply runs without it.
try {
  module.enableCompileCache?.();
} catch {
  // Start without the cache.
}

// Imported after the cache is on, so the CLI's own modules are compiled through it.
const { main } = await import('../dist/bundle/warden.js');

// A reader that stops early (`warden list | head`) is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
process.exitCode = await main(process.argv.slice(2));
