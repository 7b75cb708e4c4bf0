#!/usr/bin/env bash
# Start a throwaway PostgreSQL and Redis on loopback for the second test run.
# Prints the environment to export (DATABASE_URL, REDIS_URL). Usage: eval "$(bash .ci/services.sh start DIR)"
set -euo pipefail
cmd=${1:-start}; dir=${2:-/tmp/branchline-ci}
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pgport=${PGPORT_CI:-54329}; redisport=${REDISPORT_CI:-63799}
case "$cmd" in
start)
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
  mkdir -p "$dir"
  if [ ! -d "$dir/pg" ]; then
    mkdir -p "$dir/pg"; chown -R postgres:postgres "$dir"
    runuser -u postgres -- "$pgbin/initdb" -D "$dir/pg" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  chown -R postgres:postgres "$dir"
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $pgport -k $dir -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200" start >/dev/null
  runuser -u postgres -- "$pgbin/psql" -h 127.0.0.1 -p "$pgport" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='branchline_test'" | grep -q 1 \
    || runuser -u postgres -- "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres branchline_test
  redis-server --port "$redisport" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir"
  for _ in $(seq 50); do redis-cli -p "$redisport" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "export DATABASE_URL=postgresql://postgres@127.0.0.1:$pgport/branchline_test"
  echo "export REDIS_URL=redis://127.0.0.1:$redisport/0"
  ;;
stop)
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$dir/pg" -m fast stop >/dev/null 2>&1 || true
  redis-cli -p "$redisport" shutdown nosave >/dev/null 2>&1 || true
  ;;
esac
