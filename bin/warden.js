#!/usr/bin/env node
// The `warden` executable: the compiled CLI in dist/ (built by `npm run build`).
import { main } from '../dist/cli/main.js';

// A reader that stops early (`warden list | head`) is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
process.exitCode = await main(process.argv.slice(2));
