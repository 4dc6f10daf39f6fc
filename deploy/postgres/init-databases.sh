#!/bin/sh
# Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d/):
# one database per service (BRIEF §2: no service reads another's tables). Each service's
# `migrate` container then creates its tables. tests-e2e/test_compose.py checks this list against
# every service's default database_url.
set -eu
for db in nujoomy_tenant nujoomy_ledger nujoomy_wallet_pass nujoomy_partner_gateway nujoomy_notification; do
  echo "creating database $db"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -c "CREATE DATABASE \"$db\""
done
