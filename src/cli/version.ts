/**
 * The version in package.json. Found from this module's own URL, two levels below the package
 * root both in dist/cli/ and in the bundle's dist/bundle/ (rolldown.cli.config.ts).
 *
 * getBuiltinModule, not `import ... from 'node:fs'`: an ES module import of node:fs also
 * loads fs.promises and the streams, which a worker's `warden worker progress` never uses.
 */
export function packageVersion(): string {
  const { readFileSync } = process.getBuiltinModule('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
