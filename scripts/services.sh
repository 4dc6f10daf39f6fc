#!/usr/bin/env bash
# Makes sure PostgreSQL, RabbitMQ and Redis answer on loopback, starting the locally installed ones
# (the commands this machine kind's image uses) or, where a Docker engine answers and they are not
# installed, the infrastructure services of compose.yaml. Safe to run many times. Exits non-zero
# naming the service that could not be brought up.
set -u

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # name port seconds
  local i
  for ((i = 0; i < $3 * 2; i++)); do up "$2" && return 0; sleep 0.5; done
  echo "services: $1 did not answer on 127.0.0.1:$2 within $3 s" >&2
  return 1
}

docker_up() { # compose service
  command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 &&
    docker compose -f "$(dirname "$0")/../compose.yaml" up -d "$1"
}

status=0
if ! up 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  else
    docker_up postgres || true
  fi
  wait_for PostgreSQL 5432 60 || status=1
fi
if ! up 6379; then
  if command -v redis-server >/dev/null 2>&1; then
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  else
    docker_up redis || true
  fi
  wait_for Redis 6379 30 || status=1
fi
if ! up 5672; then
  if command -v rabbitmq-server >/dev/null 2>&1; then
    rabbitmq-server -detached || true
  else
    docker_up rabbitmq || true
  fi
  wait_for RabbitMQ 5672 120 || status=1
fi
# The test suite runs two xdist workers, each test with its own database and pools, beside the local
# run's services: PostgreSQL's default of 100 connections is too few. Raise it once (restart needed).
if [ $status -eq 0 ] && command -v psql >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null 2>&1; then
  current=$(psql -h 127.0.0.1 -U postgres -Atc "show max_connections" 2>/dev/null || echo 0)
  if [ "${current:-0}" -lt 400 ]; then
    psql -h 127.0.0.1 -U postgres -qc "ALTER SYSTEM SET max_connections = 400" &&
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main restart &&
      wait_for PostgreSQL 5432 60 || status=1
  fi
fi
exit $status
