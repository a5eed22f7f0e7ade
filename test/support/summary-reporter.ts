import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the plain `N passed, N failed` line that CI and humans read last. A file that failed
 * outside its tests (an import error, a `beforeAll` that could not start a server or a browser)
 * counts as one failure and is named, so its skipped tests never make a failed run look green.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    const notStarted: string[] = [];
    for (const module of testModules) {
      let failedTests = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failedTests += 1;
      }
      failed += failedTests;
      if (module.state() === 'failed' && failedTests === 0) {
        failed += 1;
        notStarted.push(relative(process.cwd(), module.moduleId));
      }
    }
    for (const file of notStarted) process.stdout.write(`\nfailed outside its tests: ${file}`);
    process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  }
}
