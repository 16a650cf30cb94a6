#!/usr/bin/env node
// The `warden` executable: the compiled CLI in dist/ (built by `npm run build`).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
