/**
 * `pnpm bench [flags]` is `squeeze bench [flags]`: the CLI owns the flags (parsing, validation,
 * --help), so this entry forwards to it. The CLI depends on this package, so it is loaded by its
 * path in this repository rather than as a dependency (which would be a cycle).
 */
type CliMain = (argv: readonly string[]) => Promise<number>;

const cli = new URL('../../packages/cli/dist/cli.js', import.meta.url);
const { main } = (await import(cli.href)) as { main: CliMain };
process.exitCode = await main(['bench', ...process.argv.slice(2)]);
