#!/bin/sh
# Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d/):
# one database per service (no service reads another's tables). Each service's
# `migrate` container then creates its tables. Safe to run again: an existing database is kept.
# tests-e2e/test_compose.py checks the list against every service's default database_url and runs
# this script against a real PostgreSQL (with NUJOOMY_DATABASES naming throwaway databases).
set -eu
for db in ${NUJOOMY_DATABASES:-nujoomy_tenant nujoomy_ledger nujoomy_wallet_pass nujoomy_partner_gateway nujoomy_notification}; do
  echo "database $db"
  # CREATE DATABASE cannot run inside a DO block; \gexec runs it only when the SELECT returns a row.
  psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres -tA <<SQL
SELECT format('CREATE DATABASE %I', '$db') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db')\gexec
SQL
done
