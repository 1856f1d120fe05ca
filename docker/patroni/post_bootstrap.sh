#!/bin/sh
# Run once by Patroni on the node that creates the cluster (its superuser connection URL is $1): Handoff's role
# and database. The password comes from HANDOFF_DB_PASSWORD (compose.ha.yaml passes POSTGRES_PASSWORD).
set -eu
psql "$1" -v ON_ERROR_STOP=1 -v password="$HANDOFF_DB_PASSWORD" <<'SQL'
CREATE ROLE handoff LOGIN PASSWORD :'password';
CREATE DATABASE handoff OWNER handoff;
SQL
