#!/usr/bin/env bash
# PostgreSQL may refuse a write for reasons of its own, not the rows': a
# deadlock, a lock it would not wait for, a statement a DBA cancelled, a full
# disk, a primary turned read-only by a failover. Then no row is to blame:
# none goes to the DLQ or to pmhc.rejected_events, pmhcd says why and keeps
# deciding, and the whole batch is stored once the server takes writes again.
# A row that breaks a constraint still goes to the DLQ (poison.sh), also when
# it comes in the same batch as the server's trouble.
source "$(dirname "$0")/lib.sh"

write_config
start_daemon

# The server's trouble, on demand: while public.trouble holds a SQLSTATE, every
# write to pmhc.calls fails with it. And a DBA's check in the same trigger
# (plain RAISE EXCEPTION, SQLSTATE P0001) refuses calls named CHECKED-*. The
# DBA's trigger reads its table as the DBA (SECURITY DEFINER, its search_path
# pinned): the daemon's role may read nothing outside what pmhc_writer grants.
sql "CREATE TABLE public.trouble (code text);
CREATE FUNCTION public.trouble() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS \$\$
DECLARE c text;
BEGIN
  SELECT code INTO c FROM public.trouble LIMIT 1;
  IF c IS NOT NULL THEN RAISE EXCEPTION 'simulated trouble %', c USING ERRCODE = c; END IF;
  IF NEW.call_id LIKE 'CHECKED%' THEN RAISE EXCEPTION 'a DBA''s check refuses %', NEW.call_id; END IF;
  RETURN NEW;
END \$\$;
CREATE TRIGGER trouble BEFORE INSERT OR UPDATE ON pmhc.calls FOR EACH ROW EXECUTE FUNCTION public.trouble();"

stored=0
# deadlock_detected, lock_not_available, query_canceled, disk_full, read_only_sql_transaction
for code in 40P01 55P03 57014 53100 25006; do
  sql "INSERT INTO public.trouble VALUES ('$code')"
  gen_calls 3 "T$code" | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
  for _ in $(seq 1 100); do
    grep -q "simulated trouble $code" "$PMHC_TEST_DIR/pmhcd.log" && break
    sleep 0.1
  done
  grep -q "simulated trouble $code.*SQLSTATE $code, not the rows' fault" "$PMHC_TEST_DIR/pmhcd.log" ||
    fail "no log line gives the server's reason for $code"
  ok "$code: the log says the server refused, with its reason and SQLSTATE"
  sleep 1 # retries meanwhile
  expect_eq "$code: no row blamed (rejected_events)" "$(sql "SELECT count(*) FROM pmhc.rejected_events")" 0
  expect_eq "$code: nothing stored while the server refuses" "$(sql "SELECT count(*) FROM pmhc.calls")" "$stored"
  sql "DELETE FROM public.trouble"
  stored=$((stored + 3))
  wait_sql "SELECT count(*) FROM pmhc.calls" "$stored"
  ok "$code: the batch is stored once the server takes writes again"
done

# A lock a DBA left open: after lock_timeout (10 s unless the operator chose
# one) the writer's wait fails, is logged, and is retried; the calls are
# stored once the lock goes.
psql "$PMHC_PG_DBA_CONNINFO" -Xq -c "BEGIN; LOCK TABLE pmhc.calls IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(13); COMMIT;" \
  >/dev/null &
locker=$!
sleep 0.5
gen_calls 2 LOCKED | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
for _ in $(seq 1 150); do
  grep -q 'lock timeout.*SQLSTATE 55P03' "$PMHC_TEST_DIR/pmhcd.log" && break
  sleep 0.1
done
grep -q 'lock timeout.*SQLSTATE 55P03' "$PMHC_TEST_DIR/pmhcd.log" || fail "no lock timeout logged within 15 s"
ok "a lock held past lock_timeout is logged with its SQLSTATE"
wait "$locker"
stored=$((stored + 2))
wait_sql "SELECT count(*) FROM pmhc.calls" "$stored"
ok "the calls behind the lock are stored once it goes"

# Trouble and a bad row together: the trouble passes, then the row alone is blamed.
sql "ALTER TABLE pmhc.calls ADD CONSTRAINT no_poison CHECK (call_id !~ '^POISON') NOT VALID"
sql "INSERT INTO public.trouble VALUES ('40P01')"
{ gen_calls 2 MIXA; gen_calls 1 POISON; gen_calls 1 CHECKED; gen_calls 2 MIXB; } | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
sleep 1.5
expect_eq "bad row under trouble: nothing blamed yet" "$(sql "SELECT count(*) FROM pmhc.rejected_events")" 0
sql "DELETE FROM public.trouble"
wait_sql "SELECT count(*) FROM pmhc.calls" $((stored + 4))
wait_sql "SELECT count(*) FROM pmhc.rejected_events" 2
expect_eq "then only the bad rows are blamed: a constraint's and a trigger's check" \
  "$(sql "SELECT string_agg((reason ~ 'no_poison|a DBA''s check refuses CHECKED-000000')::text, ',') FROM pmhc.rejected_events")" "true,true"

"$PMHC_CONSUME" -b "$PMHC_BROKERS" -t pmhc.dlq --type call --from-beginning --idle-ms 4000 \
  > "$PMHC_TEST_DIR/dlq.jsonl" || true
expect_eq "the DLQ holds the bad rows and nothing else" \
  "$(jq -r '.call_id' "$PMHC_TEST_DIR/dlq.jsonl" | sort | tr '\n' ' ')" "CHECKED-000000 POISON-000000 "
# Decisions never waited for the database: every call got its recommendation.
"$PMHC_CONSUME" -b "$PMHC_BROKERS" -t pmhc.recommendations --from-beginning --idle-ms 4000 \
  > "$PMHC_TEST_DIR/recs.jsonl" || true
expect_eq "every call got its recommendation, the refused ones too" \
  "$(jq -r '.call_id' "$PMHC_TEST_DIR/recs.jsonl" | sort -u | wc -l)" $((stored + 6))
stored=$((stored + 4))

# A constraint PostgreSQL checks only at COMMIT (deferred): the refused COMMIT
# is classified like any statement, the row alone is blamed, and the
# transaction it ended is not rolled back a second time.
sql "CREATE FUNCTION public.late_check() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN RAISE EXCEPTION 'checked at commit: %', NEW.call_id USING ERRCODE = '23514'; END \$\$;
CREATE CONSTRAINT TRIGGER late_check AFTER INSERT OR UPDATE ON pmhc.calls DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.call_id LIKE 'LATE%') EXECUTE FUNCTION public.late_check();"
{ gen_calls 2 DEFA; gen_calls 1 LATE; gen_calls 2 DEFB; } | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
wait_sql "SELECT count(*) FROM pmhc.calls" $((stored + 4))
wait_sql "SELECT count(*) FROM pmhc.rejected_events" 3
expect_eq "a row refused at COMMIT is blamed alone" \
  "$(sql "SELECT count(*) FROM pmhc.rejected_events WHERE reason ~ 'checked at commit: LATE-000000'")" 1
! grep -q 'no transaction in progress' "$PMHC_TEST_DIR/pmhcd.log" ||
  fail "a transaction a refused COMMIT had ended was rolled back again"
ok "no ROLLBACK after a refused COMMIT"
sql "DROP TRIGGER late_check ON pmhc.calls"
stored=$((stored + 4))
stop_daemon

# Backfill tries history straight into the tables by COPY first. Trouble
# there fails the batch at once, retried whole: no merge meets it a second
# time, no row is blamed, and the history is stored once it passes.
rejected=$(sql "SELECT count(*) FROM pmhc.rejected_events")
gen_calls 3 HIST > "$PMHC_TEST_DIR/history.jsonl"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" --history cad.history "$PMHC_TEST_DIR/history.jsonl" 2>/dev/null
sql "INSERT INTO public.trouble VALUES ('40P01')"
sed -i 's/^log = .*//' "$PMHC_TEST_DIR/pmhcd.conf"
echo 'log = { level = "debug"; };' >> "$PMHC_TEST_DIR/pmhcd.conf"
timeout 60 "$PMHCD" --backfill --config "$PMHC_TEST_DIR/pmhcd.conf" 2>"$PMHC_TEST_DIR/backfill.log" &
backfill=$!
for _ in $(seq 1 150); do
  grep -qs 'SQLSTATE 40P01' "$PMHC_TEST_DIR/backfill.log" && break
  sleep 0.1
done
grep -q 'simulated trouble 40P01.*SQLSTATE 40P01' "$PMHC_TEST_DIR/backfill.log" || fail "backfill logged no trouble"
sleep 1
! grep -q 'batch merged instead\|merging' "$PMHC_TEST_DIR/backfill.log" || fail "backfill merged after the server's trouble"
ok "backfill: the server's trouble on the direct COPY fails the batch at once, no merge"
sql "DELETE FROM public.trouble"
rc=0
wait "$backfill" || rc=$?
[ "$rc" -eq 0 ] || fail "pmhcd --backfill exited $rc"
expect_eq "backfill: stored once the trouble passed, nothing blamed" \
  "$(sql "SELECT count(*) FILTER (WHERE backfilled AND call_id LIKE 'HIST-%') || ' ' || (SELECT count(*) FROM pmhc.rejected_events) FROM pmhc.calls")" \
  "3 $rejected"

# lock_timeout is for batches only: pmhcd --migrate waits behind another
# run's migration lock for as long as it is held, then finds nothing to do.
psql "$PMHC_PG_DBA_CONNINFO" -Xq -c "SELECT pg_advisory_lock($((0x706d6863))), pg_sleep(12)" >/dev/null &
locker=$!
until [ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $((0x706d6863))")" = 1 ]; do
  sleep 0.1
done
start=$(date +%s)
rc=0
"$PMHCD" --migrate --conninfo "$PMHC_PG_DBA_CONNINFO" 2>"$PMHC_TEST_DIR/migrate.log" || rc=$?
took=$(($(date +%s) - start))
wait "$locker"
[ "$rc" -eq 0 ] || fail "pmhcd --migrate exited $rc behind the lock"
[ "$took" -ge 10 ] || fail "pmhcd --migrate finished in $took s while another held the migration lock for 12 s"
grep -q 'applied_now=0' "$PMHC_TEST_DIR/migrate.log" || fail "pmhcd --migrate applied something twice"
ok "pmhcd --migrate waits ${took} s for the migration lock, then has nothing to apply"
echo "server_error: $checks checks passed"
