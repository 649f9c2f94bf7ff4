#!/usr/bin/env bash
# The project's one test command (`npm test`, and .ci/run): makes sure PostgreSQL
# and Kafka are there for the tests, runs vitest, and closes with the line
# `N passed, N failed, N skipped`.
#
#   bash scripts/test.sh [vitest args...]      e.g. bash scripts/test.sh test/harness.test.ts
#
# PostgreSQL: DATABASE_URL (an admin URL: the tests create and drop a throwaway
#   database in it); else, when a Docker engine answers, a testcontainer started by
#   test/support/globalSetup.ts; else the local server postgres://postgres@127.0.0.1:5432/postgres,
#   started with pg_ctlcluster if it does not answer.
# Kafka: KAFKA_BROKERS; else, when a Docker engine answers, a testcontainer; else a
#   broker run from the Maven Central jars by scripts/kafka-broker.sh (fetched into
#   .cache/ on first use, stopped when this script exits). KAFKA_PORT picks its port.
# Chromium (test/console): /usr/bin/chromium, or CHROMIUM_PATH; Debian's `chromium`
#   package is installed when it is missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "test.sh: $*" >&2; }

docker_answers() {
  command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1
}

SUMMARY_FILE="$(mktemp "${TMPDIR:-/tmp}/test-summary.XXXXXX")"
export TEST_SUMMARY_FILE="$SUMMARY_FILE"
KAFKA_STARTED=0

finish() {
  local status=$?
  set +e
  if [[ "$KAFKA_STARTED" == 1 ]]; then
    scripts/kafka-broker.sh stop
    KAFKA_STARTED=0
  fi
  # The closing line, printed last of all (the reporter wrote it to SUMMARY_FILE).
  if [[ -s "$SUMMARY_FILE" ]]; then
    cat "$SUMMARY_FILE"
  else
    say "no test summary (vitest did not finish a run); exit status $status"
  fi
  rm -f "$SUMMARY_FILE"
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z "${DATABASE_URL:-}" || -z "${KAFKA_BROKERS:-}" ]] && docker_answers; then
  DOCKER=1
else
  DOCKER=0
fi

# ---- PostgreSQL ----
if [[ -n "${DATABASE_URL:-}" ]]; then
  say "PostgreSQL: DATABASE_URL from the environment"
elif [[ "$DOCKER" == 1 ]]; then
  say "PostgreSQL: a testcontainer (Docker engine answers)"
else
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    say "PostgreSQL does not answer on 127.0.0.1:5432: starting it"
    # shellcheck disable=SC2046 # one cluster version directory
    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start || say "pg_ctlcluster failed"
    for _ in $(seq 1 60); do
      pg_isready -q -h 127.0.0.1 -p 5432 && break
      sleep 0.5
    done
    pg_isready -q -h 127.0.0.1 -p 5432 || { say "PostgreSQL still does not answer on 127.0.0.1:5432"; exit 1; }
  fi
  say "PostgreSQL: local server, $DATABASE_URL"
fi

# ---- Kafka ----
if [[ -n "${KAFKA_BROKERS:-}" ]]; then
  say "Kafka: KAFKA_BROKERS=$KAFKA_BROKERS from the environment"
elif [[ "$DOCKER" == 1 ]]; then
  say "Kafka: a testcontainer (Docker engine answers)"
else
  scripts/kafka-broker.sh fetch
  KAFKA_STARTED=1
  start_output="$(scripts/kafka-broker.sh start)"
  KAFKA_BROKERS="$(sed -n 's/^KAFKA_BROKERS=//p' <<<"$start_output" | tail -n 1)"
  [[ -n "$KAFKA_BROKERS" ]] || { say "kafka-broker.sh start printed no KAFKA_BROKERS"; exit 1; }
  export KAFKA_BROKERS
  say "Kafka: local broker, KAFKA_BROKERS=$KAFKA_BROKERS"
fi

# ---- Chromium (the console's browser tests: test/console) ----
# Debian's package, driven by playwright-core (which never downloads a browser).
# Installed quietly when missing and apt-get can (root); else those tests fail saying so.
if [[ -z "${CHROMIUM_PATH:-}" ]] && ! command -v chromium >/dev/null 2>&1; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "Chromium: not installed, installing Debian's chromium package"
    { apt-get install -y -qq chromium >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }; } \
      || say "Chromium: apt-get install chromium failed (the console tests will fail)"
  else
    say "Chromium: not installed and cannot install it here (the console tests will fail)"
  fi
fi

# ---- tests ----
status=0
npx vitest run "$@" || status=$?
exit "$status"
