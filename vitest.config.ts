import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // PostgreSQL database + Kafka broker for the tests: see test/support/globalSetup.ts
    globalSetup: ["./test/support/globalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // the summary reporter prints the closing `N passed, N failed, N skipped` line
    reporters: ["default", "./test/support/summaryReporter.ts"]
  }
})
