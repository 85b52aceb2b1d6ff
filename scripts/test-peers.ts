/**
 * The real peers some tests run against (Chromium from Debian, Deno and Bun
 * from their npm packages) and what happens when one is missing. Outside CI
 * the test file skips with a line saying what is missing and how to get it;
 * under CI (`CI` set, as on every CI service) a missing peer is an error, so
 * a green CI run never means "skipped".
 */
import { existsSync } from 'node:fs';

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
