#!/usr/bin/env node
// Makes sure Debian's chromium is at /usr/bin/chromium for the browser tests
// (the browser-client's own hint names this script). The rules live in
// ensure-debian-packages.mjs, which the root `pnpm test` runs for every
// Debian package the tests need.
import { ensureDebianPackages } from './ensure-debian-packages.mjs';

ensureDebianPackages(['chromium']);
