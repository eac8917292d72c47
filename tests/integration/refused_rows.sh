#!/usr/bin/env bash
# Rows PostgreSQL refuses, whatever the SQLSTATE (SPEC section 8):
#  - a trigger's ASSERT (P0004) and a custom ERRCODE (PM001) refuse one row
#    each: found by splitting the batch, each goes to the DLQ as it was
#    consumed (its bytes and key) and to rejected_events with its reason; the
#    rows around them are stored;
#  - rejected_events itself refusing the record: nothing about that input is
#    committed or dead-lettered until it takes it;
#  - a statement trigger that refuses every write, with or without rows
#    (XX000): not the rows' fault, nothing is dead-lettered, the batch waits
#    and is stored once the trigger is gone.
source "$(dirname "$0")/lib.sh"

raw() { timeout 20 kcat -C -b "$PMHC_BROKERS" -t "$1" "${@:3}" -e -q -f "$2" 2>/dev/null; }
dlq_keys() { raw pmhc.dlq '%k\n' -o beginning | sort | tr '\n' ' '; }

write_config
start_daemon
sql "CREATE FUNCTION pmhc.test_refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  ASSERT NEW.call_id !~ '^ASSERT', 'assertion refuses ' || NEW.call_id;
  IF NEW.call_id ~ '^(CUSTOM|HOLD)' THEN
    RAISE EXCEPTION 'custom refusal of %', NEW.call_id USING ERRCODE = 'PM001';
  END IF;
  RETURN NEW;
END \$\$;
CREATE TRIGGER test_refuse BEFORE INSERT OR UPDATE ON pmhc.calls FOR EACH ROW EXECUTE FUNCTION pmhc.test_refuse();"

{ gen_calls 3 A; gen_calls 1 ASSERT; gen_calls 3 B; gen_calls 1 CUSTOM; gen_calls 3 C; } > "$PMHC_TEST_DIR/calls.jsonl"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$PMHC_TEST_DIR/calls.jsonl" 2>/dev/null
wait_sql "SELECT count(*) FROM pmhc.rejected_events" 2
expect_eq "the rows around them were stored" "$(sql "SELECT count(*) FROM pmhc.calls")" 9
expect_eq "each refusal recorded with PostgreSQL's reason" \
  "$(sql "SELECT string_agg(source_offset || ':' || (reason ~ '^refused by PostgreSQL: .*(assertion refuses ASSERT-000000|custom refusal of CUSTOM-000000)'), ' ' ORDER BY source_offset) FROM pmhc.rejected_events")" \
  "3:true 7:true"
for _ in $(seq 1 100); do [ "$(raw pmhc.dlq '%k\n' -o beginning | grep -c .)" -ge 2 ] && break; sleep 0.1; done
expect_eq "both went to the DLQ with their keys" "$(dlq_keys)" "LOAD/ASSERT-000000 LOAD/CUSTOM-000000 "
for o in 3 7; do
  src=$(raw cad.calls '%s' -p 0 -o "$o" -c 1 | sha256sum | cut -c1-64)
  p_o=$(raw pmhc.dlq '%p %o %h\n' -o beginning | grep "pmhc-source-offset=$o\b" | cut -d' ' -f1,2)
  [ -n "$p_o" ] || fail "no DLQ message for offset $o"
  dlq=$(raw pmhc.dlq '%s' -p "${p_o% *}" -o "${p_o#* }" -c 1 | sha256sum | cut -c1-64)
  expect_eq "the DLQ copy of offset $o is the input byte for byte" "$dlq" "$src"
done

# rejected_events refuses the record: the input is held, not committed without it.
sql "ALTER TABLE pmhc.rejected_events ADD CONSTRAINT test_hold CHECK (reason !~ 'HOLD-') NOT VALID"
{ gen_calls 2 D; gen_calls 1 HOLD; gen_calls 2 E; } | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
wait_log 'rejected events refused by PostgreSQL; holding the batch and retrying' 30
ok "a refused rejected_events row holds its batch"
expect_eq "and is not dead-lettered without its record" "$(raw pmhc.dlq '%k\n' -o beginning | grep -c HOLD || true)" 0
sql "ALTER TABLE pmhc.rejected_events DROP CONSTRAINT test_hold"
wait_sql "SELECT count(*) FROM pmhc.rejected_events WHERE reason ~ 'HOLD-000000'" 1 30
for _ in $(seq 1 100); do [ "$(raw pmhc.dlq '%k\n' -o beginning | grep -c HOLD || true)" -ge 1 ] && break; sleep 0.1; done
expect_eq "once it takes it, the DLQ gets the input" "$(raw pmhc.dlq '%k\n' -o beginning | grep -c HOLD || true)" 1

# Every write refused, rows or none: the server's trouble, nothing dead-lettered.
sql "CREATE FUNCTION pmhc.test_refuse_all() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN RAISE EXCEPTION 'refusing every write' USING ERRCODE = 'XX000'; END \$\$;
CREATE TRIGGER test_refuse_all BEFORE INSERT ON pmhc.calls FOR EACH STATEMENT EXECUTE FUNCTION pmhc.test_refuse_all();"
gen_calls 3 G | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
wait_log 'refusing every write .*\(SQLSTATE XX000, not the rows. fault\)' 30
ok "a refusal that a write with no rows meets too blames no row"
sql "DROP TRIGGER test_refuse_all ON pmhc.calls"
wait_sql "SELECT count(*) FROM pmhc.calls WHERE call_id LIKE 'G-%'" 3 60
expect_eq "nothing more was dead-lettered" "$(sql "SELECT count(*) FROM pmhc.rejected_events")" 3
expect_eq "nor sent to the DLQ" "$(raw pmhc.dlq '%k\n' -o beginning | grep -c .)" 3
stop_daemon
echo "refused_rows: $checks checks passed"
