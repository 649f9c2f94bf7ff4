/**
 * What the global setup (test/support/globalSetup.ts) hands to the tests.
 *
 *   import { testDatabaseUrl, testKafkaBrokers } from "./support/context.ts"
 */
import { inject } from "vitest"

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of a throwaway database created for this test run (dropped at the end). */
    databaseUrl: string
    /** Comma-separated Kafka bootstrap servers, e.g. "127.0.0.1:19092". */
    kafkaBrokers: string
  }
}

const missing = (what: string, how: string): never => {
  throw new Error(`no ${what} for the tests: ${how}. Run the tests with \`npm test\` (scripts/test.sh), which starts what is missing.`)
}

/** URL of this run's throwaway PostgreSQL database. */
export const testDatabaseUrl = (): string =>
  inject("databaseUrl") || missing("database", "set DATABASE_URL to an admin URL or make a Docker engine available")

/** Kafka bootstrap servers as one string, e.g. "127.0.0.1:19092". */
export const testKafkaBrokers = (): string =>
  inject("kafkaBrokers") || missing("Kafka broker", "set KAFKA_BROKERS or make a Docker engine available")

/** Kafka bootstrap servers as a list, as kafkajs wants them. */
export const testKafkaBrokerList = (): Array<string> =>
  testKafkaBrokers().split(",").map((s) => s.trim()).filter((s) => s.length > 0)
