import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends a test run with the plain line "tests: N passed, N failed, N skipped", which CI systems read
 * without knowing vitest's own summary format. Counted when the run ends, printed in the last hook
 * vitest calls, after its own summary (this reporter is listed after the default one).
 */
export default class SummaryReporter implements Reporter {
  private line = '';

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') count.passed++;
        else if (state === 'failed') count.failed++;
        else count.skipped++;
      }
    }
    this.line = `tests: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped`;
  }

  onFinished(): void {
    if (this.line) process.stdout.write(`${this.line}\n`);
  }
}
