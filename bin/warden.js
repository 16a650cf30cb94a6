#!/usr/bin/env node
// The `warden` executable: the bundled CLI in dist/bundle/ (built by `npm run build`).
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
