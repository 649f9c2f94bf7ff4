/**
 * Prints one closing line, `N passed, N failed, N skipped`, counting tests.
 *
 * - `todo` tests and tests that never ran (an interrupted run) count as skipped.
 * - An error outside any test (a test file that fails to import, a failing
 *   `beforeAll`/`afterAll`, an unhandled error) counts as one failure each, so a
 *   broken run can never close on "N passed, 0 failed".
 *
 * - A run that vitest judges failed although no test failed (the global setup
 *   threw, no test file matched) counts as one failure.
 *
 * The line goes to stdout, unless TEST_SUMMARY_FILE is set: then it is written to
 * that file instead, and `scripts/test.sh` prints it as the very last line of its
 * output (after stopping the services it started).
 */
import { writeFileSync } from "node:fs"
import type { Reporter, TestModule, TestRunEndReason } from "vitest/node"

type Counts = { passed: number; failed: number; skipped: number }

export const countResults = (
  testModules: ReadonlyArray<TestModule>,
  unhandledErrors: ReadonlyArray<unknown>
): Counts => {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 }
  for (const testModule of testModules) {
    for (const test of testModule.children.allTests()) {
      const state = test.result().state
      if (state === "passed") counts.passed++
      else if (state === "failed") counts.failed++
      else counts.skipped++
    }
    // errors not attached to a test: import/collection errors, suite hooks
    counts.failed += testModule.errors().length
    for (const suite of testModule.children.allSuites()) {
      counts.failed += suite.errors().length
    }
  }
  counts.failed += unhandledErrors.length
  return counts
}

export const formatCounts = ({ failed, passed, skipped }: Counts): string =>
  `${passed} passed, ${failed} failed, ${skipped} skipped`

export default class SummaryReporter implements Reporter {
  async onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<unknown>,
    reason: TestRunEndReason
  ): Promise<void> {
    const counts = countResults(testModules, unhandledErrors)
    if (reason !== "passed" && counts.failed === 0) counts.failed = 1
    const line = formatCounts(counts)
    // Vitest calls the reporters' onTestRunEnd and onFinished together, and the
    // default reporter prints its summary in onFinished: let it go first.
    await new Promise<void>((resolve) => setImmediate(resolve))
    const file = process.env["TEST_SUMMARY_FILE"]
    if (file) {
      writeFileSync(file, `${line}\n`)
    } else {
      process.stdout.write(`\n${line}\n`)
    }
  }
}
