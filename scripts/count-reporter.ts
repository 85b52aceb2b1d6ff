// Prints one plain closing line, "N passed, N failed, N skipped", as the last
// line of a test run (after the coverage summary when coverage is on), so the
// outcome can be read without parsing vitest's own summary.
import type { Reporter, TestModule, Vitest } from 'vitest/node';

export default class CountReporter implements Reporter {
  private line = '';
  private coverage = false;

  onInit(vitest: Vitest): void {
    this.coverage = vitest.config.coverage.enabled;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of modules) {
      let failedTests = 0;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failedTests++;
        else skipped++;
      }
      // A file that failed outside any test (an import error, a hook) counts as one failure.
      failed += failedTests > 0 ? failedTests : mod.state() === 'failed' ? 1 : 0;
    }
    failed += errors.length;
    this.line = `${passed} passed, ${failed} failed, ${skipped} skipped`;
    if (!this.coverage) this.print();
  }

  onCoverage(): void {
    // Runs after the coverage summary has been printed.
    setImmediate(() => this.print());
  }

  private print(): void {
    if (this.line !== '') process.stdout.write(`\n${this.line}\n`);
    this.line = '';
  }
}
