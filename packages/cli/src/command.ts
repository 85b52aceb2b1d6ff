/**
 * The shape every subcommand shares: its own options for `node:util`'s
 * parseArgs, its help text, and a run function that returns the exit code.
 * Usage mistakes are a typed error so the entry point can print them the
 * same way everywhere (exit code 2, with a pointer to `--help`).
 */
import type { ParseArgsConfig } from 'node:util';
import { parseArgs } from 'node:util';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

export interface Command<O extends OptionsConfig> {
  readonly name: string;
  readonly summary: string;
  readonly help: string;
  readonly options: O;
  run(values: ParsedValues<O>, positionals: string[]): Promise<number>;
}

type ParsedValues<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>
>['values'];

/** A mistake in how the command was called: exit code 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** Process exit codes. */
export const Exit = { Ok: 0, Failure: 1, Usage: 2 } as const;

export function defineCommand<O extends OptionsConfig>(command: Command<O>): Command<O> {
  return command;
}

/** Parses argv for a command; `--help`/`-h` is added to every command. */
export function parseCommandArgs<O extends OptionsConfig>(command: Command<O>, argv: string[]) {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    const help = (values as { help?: boolean }).help === true;
    return { help, values: values as ParsedValues<O>, positionals };
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error));
  }
}

/** A port number option, or a usage error that says what was wrong. */
export function parsePort(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    throw new CliUsageError(`--port must be a number from 0 to 65535, got "${text}"`);
  return port;
}
