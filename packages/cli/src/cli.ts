#!/usr/bin/env node
/**
 * `rfc6455`: one binary, one subcommand per job. Each command parses its own
 * options and returns its exit code; usage mistakes exit 2 with a pointer to
 * that command's --help.
 */
import { CliUsageError, type Command, Exit, type OptionsConfig, parseCommandArgs } from './command.js';
import { connectCommand } from './commands/connect.js';
import { decodeCommand } from './commands/decode.js';
import { demoCommand } from './commands/demo.js';
import { serveCommand } from './commands/serve.js';
import { styleFor } from './style.js';

// Each command keeps its own option types; the table only needs the common shape.
const commands = [connectCommand, serveCommand, decodeCommand, demoCommand] as unknown as ReadonlyArray<
  Command<OptionsConfig>
>;

const HELP = `Usage: rfc6455 <command> [options]

A WebSocket toolbox on this project's codec, node-server and browser-client.

Commands:
${commands.map((c) => `  ${c.name.padEnd(9)} ${c.summary}`).join('\n')}

Run rfc6455 <command> --help for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${HELP}\n`);
    return name === undefined ? Exit.Usage : Exit.Ok;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    process.stderr.write(`rfc6455: unknown command "${name}"\n\n${HELP}\n`);
    return Exit.Usage;
  }
  try {
    const { help, values, positionals } = parseCommandArgs(command, rest);
    if (help) {
      process.stdout.write(`${command.help}\n`);
      return Exit.Ok;
    }
    return await command.run(values, positionals);
  } catch (error) {
    const style = styleFor(process.stderr);
    if (error instanceof CliUsageError) {
      process.stderr.write(
        `${style.red(`rfc6455 ${command.name}:`)} ${error.message}\n(see rfc6455 ${command.name} --help)\n`,
      );
      return Exit.Usage;
    }
    process.stderr.write(
      `${style.red(`rfc6455 ${command.name}:`)} ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return Exit.Failure;
  }
}

// pnpm passes a `--` through when the script is run as `pnpm start -- --port 9000`.
main(process.argv.slice(2).filter((arg, i) => !(i > 0 && arg === '--'))).then((code) => {
  process.exitCode = code;
  // Long-running commands leave nothing behind once they return, but a dangling
  // readline on a TTY stdin would keep the process alive.
  if (process.stdin.isTTY) process.stdin.destroy();
}, exitOnUnexpected);

/** `main` reports its own failures; anything reaching here is a bug, so it is printed and the exit status says so. */
function exitOnUnexpected(error: unknown): void {
  process.stderr.write(
    `rfc6455: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = Exit.Failure;
}
