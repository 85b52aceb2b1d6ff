/**
 * The real peers some tests run against (Chromium from Debian, Deno and Bun
 * from their npm packages) and what happens when one is missing. Outside CI
 * the test file skips with a line saying what is missing and how to get it;
 * under CI (`CI` set, as on every CI service) a missing peer is an error, so
 * a green CI run never means "skipped".
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How each peer gets onto a machine. */
const INSTALL = {
  chromium: 'Debian package chromium: node scripts/ensure-debian-packages.mjs chromium, as root',
  deno: "npm package deno, a devDependency of the test's package: npx --yes pnpm@10.34.9 install",
  bun: 'npm package bun, a devDependency whose install script pnpm-workspace.yaml allows: npx --yes pnpm@10.34.9 install',
} as const;

export type Peer = keyof typeof INSTALL;

export const CHROMIUM = '/usr/bin/chromium';

/**
 * `null` when every peer (name → its binary's path) is present; otherwise
 * the reason to skip, already printed. Throws under CI.
 */
export function missingPeers(peers: Partial<Record<Peer, string>>): string | null {
  const missing = (Object.entries(peers) as Array<[Peer, string]>).filter(([, path]) => !existsSync(path));
  if (missing.length === 0) return null;
  const reason = missing.map(([name, path]) => `${name} is missing at ${path} (${INSTALL[name]})`).join('; ');
  if (process.env.CI) throw new Error(`a CI run never skips a real peer: ${reason}`);
  console.warn(`skipping these tests: ${reason}`);
  return reason;
}

/**
 * Headless Chromium's flags for these tests: no GPU, no QUIC, and none of
 * the background traffic (updates, sync, first-run pages) that a closed
 * network refuses.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Per-test launch options, passed through to playwright-core. */
interface LaunchOptions {
  ignoreHTTPSErrors?: boolean;
  viewport?: { width: number; height: number };
}

/** The part of playwright-core's `chromium` launcher these tests use (playwright-core is each package's own devDependency). */
interface PersistentLauncher<Context> {
  launchPersistentContext(
    userDataDir: string,
    options: { executablePath: string; args: string[]; headless?: boolean } & LaunchOptions,
  ): Promise<Context>;
}

/**
 * Debian's Chromium with a fresh profile under the temp directory; `close()`
 * closes it and removes the profile.
 */
export async function launchChromium<Context extends { close(): Promise<void> }>(
  launcher: PersistentLauncher<Context>,
  name: string,
  options: LaunchOptions = {},
): Promise<{ context: Context; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), `${name}-`));
  try {
    const context = await launcher.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS],
      headless: true,
      ...options,
    });
    return {
      context,
      async close() {
        try {
          await context.close();
        } finally {
          rmSync(profile, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}
