#!/usr/bin/env bash
# What pmhcd produces and cannot deliver holds its input's offset until it is
# delivered; nothing is dropped and nothing is skipped (SPEC section 8).
#  1. Topics the producer cannot write (pmhc.recs2 and pmhc.dlq2 do not exist,
#     auto-creation is off): every recommendation and dead letter times out
#     (message.timeout.ms 3 s), is held, and after five failures the pipeline
#     says it is stalled, naming the input. Once the topics exist, every
#     recommendation and the dead letter arrive.
#  2. A fatal idempotent-producer error (forced: PMHC_TEST_PRODUCER_FATAL_AFTER,
#     as a real broker cannot be made to give one): the producer is replaced and
#     every call still gets its recommendation.
#  3. A dead letter over the producer's message.max.bytes, refused at once: the
#     pipeline stalls at it and commits nothing past it; restarted with a larger
#     limit, pmhcd replays it and the DLQ gets the input byte for byte with its key.
#  4. A dead letter larger than the producer's whole local queue
#     (queue.buffering.max.kbytes), which librdkafka refuses as "queue full"
#     however long pmhcd waits: held and stalled like 3, not waited on for
#     ever with the loop, its watchdog and a stop stuck behind it; replayed
#     once the queue is large enough.
source "$(dirname "$0")/lib.sh"
: "${PMHC_KAFKA_ADMIN:?}"

# with_props "NAME=VALUE"...: the test config, those librdkafka properties added.
with_props() {
  local extra="" prop
  for prop in "$@"; do extra+=", \"$prop\""; done
  sed -i "s|\"topic.metadata.refresh.interval.ms=1000\" )|\"topic.metadata.refresh.interval.ms=1000\"$extra )|" \
    "$PMHC_TEST_DIR/pmhcd.conf"
}
# recommended TOPIC PREFIX: distinct calls of PREFIX recommended on TOPIC.
recommended() {
  timeout 60 "$PMHC_CONSUME" -b "$PMHC_BROKERS" -t "$1" --from-beginning --idle-ms 3000 2>/dev/null |
    jq -r .call_id | grep -c "^$2-" || true
}
# raw TOPIC FORMAT: every message of TOPIC (one partition) printed by kcat's FORMAT.
raw() { timeout 20 kcat -C -b "$PMHC_BROKERS" -t "$1" -o beginning -e -q -f "$2" 2>/dev/null; }

# ---- 1. topics the producer cannot write ----
write_config 'topics = { recommendations = "pmhc.recs2"; dlq = "pmhc.dlq2"; };'
sed -i 's|brokers = |share_holds = false; brokers = |' "$PMHC_TEST_DIR/pmhcd.conf"
with_props "message.timeout.ms=3000"
start_daemon
gen_calls 20 T | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
printf '\377\377\377not a call' > "$PMHC_TEST_DIR/junk.bin"
kcat -P -b "$PMHC_BROKERS" -t cad.calls -k "LOAD/JUNK" "$PMHC_TEST_DIR/junk.bin" || fail "kcat could not send"
gen_calls 5 U | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
wait_sql "SELECT count(*) FROM pmhc.calls" 25
wait_log 'DLQ message cannot be delivered; the pipeline is stalled.* source_topic=cad.calls source_partition=0 source_offset=20 ' 90
ok "an undeliverable dead letter stalls the pipeline, naming its input"
wait_log 'recommendation cannot be delivered; the pipeline is stalled.* source_topic=cad.calls ' 30
ok "so does an undeliverable recommendation"
"$PMHC_KAFKA_ADMIN" -b "$PMHC_BROKERS" pmhc.recs2=1 pmhc.dlq2=1 >/dev/null || fail "cannot create the topics"
for _ in $(seq 1 600); do
  [ "$(raw pmhc.dlq2 '%k\n' | grep -c 'LOAD/JUNK')" -ge 1 ] && break
  sleep 0.1
done
expect_eq "the dead letter arrives once its topic exists" "$(raw pmhc.dlq2 '%k %o\n' | grep -c '^LOAD/JUNK ')" 1
expect_eq "its bytes are the input's" "$(raw pmhc.dlq2 '%s' | sha256sum | cut -c1-64)" "$(sha256sum < "$PMHC_TEST_DIR/junk.bin" | cut -c1-64)"
expect_eq "every call held back got its recommendation" "$(recommended pmhc.recs2 T) $(recommended pmhc.recs2 U)" "20 5"
stop_daemon
grep -q 'msg="stopped".* undelivered=0 stalled=0 ' "$PMHC_TEST_DIR/pmhcd.log" || fail "pmhcd stopped with messages still held"
ok "nothing was left held at the stop"
mv "$PMHC_TEST_DIR/pmhcd.log" "$PMHC_TEST_DIR/pmhcd-1.log"

# ---- 2. a fatal producer error ----
write_config
PMHC_TEST_PRODUCER_FATAL_AFTER=30 start_daemon
gen_calls 200 F > "$PMHC_TEST_DIR/fatal.jsonl"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" --rate 400 "$PMHC_TEST_DIR/fatal.jsonl" 2>/dev/null
wait_sql "SELECT count(*) FROM pmhc.calls WHERE call_id LIKE 'F-%'" 200
wait_log 'Kafka producer failed fatally; replacing it' 10
ok "the fatal producer error was met and the producer replaced"
for _ in $(seq 1 20); do
  [ "$(recommended pmhc.recommendations F)" -ge 200 ] && break # each look takes 3 s
done
expect_eq "every call got its recommendation across the fatal error" "$(recommended pmhc.recommendations F)" 200
kill -0 "$DAEMON_PID" || fail "pmhcd died"
stop_daemon
mv "$PMHC_TEST_DIR/pmhcd.log" "$PMHC_TEST_DIR/pmhcd-2.log"

# ---- 3. a dead letter over the producer's message.max.bytes ----
write_config
with_props "message.max.bytes=20000"
start_daemon
head -c 50000 /dev/zero | tr '\0' '\377' > "$PMHC_TEST_DIR/big.bin"
before=$(raw cad.calls '%o\n' | tail -n 1)
kcat -P -b "$PMHC_BROKERS" -t cad.calls -k "LOAD/BIG" "$PMHC_TEST_DIR/big.bin" || fail "kcat could not send"
big=$((before + 1))
gen_calls 3 V | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
wait_sql "SELECT count(*) FROM pmhc.calls WHERE call_id LIKE 'V-%'" 3
wait_log "DLQ message cannot be delivered; the pipeline is stalled.* source_offset=$big .*hint=\"raise message.max.bytes" 60
ok "a dead letter too large for the producer stalls the pipeline at offset $big"
stop_daemon
expect_eq "nothing reached the DLQ" "$(raw pmhc.dlq '%k\n' | grep -c 'LOAD/BIG' || true)" 0
write_config
start_daemon
for _ in $(seq 1 300); do
  [ "$(raw pmhc.dlq '%k\n' | grep -c 'LOAD/BIG')" -ge 1 ] && break
  sleep 0.1
done
expect_eq "restarted with a larger limit, pmhcd replays it to the DLQ" "$(raw pmhc.dlq '%k\n' | grep -c 'LOAD/BIG')" 1
expect_eq "byte for byte" "$(raw pmhc.dlq '%s' | sha256sum | cut -c1-64)" "$(sha256sum < "$PMHC_TEST_DIR/big.bin" | cut -c1-64)"
expect_eq "with its source offset" "$(raw pmhc.dlq '%h\n' | grep -o 'pmhc-source-offset=[0-9]*')" "pmhc-source-offset=$big"
expect_eq "and one rejected_events row" "$(sql "SELECT count(*) FROM pmhc.rejected_events WHERE source_offset = $big")" 1
stop_daemon
mv "$PMHC_TEST_DIR/pmhcd.log" "$PMHC_TEST_DIR/pmhcd-3.log"

# ---- 4. a dead letter larger than the producer's whole queue ----
TIMEOUT=4
write_config
sed -i "s/shutdown_timeout = 10;/shutdown_timeout = $TIMEOUT;/" "$PMHC_TEST_DIR/pmhcd.conf"
with_props "queue.buffering.max.kbytes=8"
start_daemon
head -c 20000 /dev/zero | tr '\0' '\377' > "$PMHC_TEST_DIR/wide.bin"
before=$(raw cad.calls '%o\n' | tail -n 1)
kcat -P -b "$PMHC_BROKERS" -t cad.calls -k "LOAD/WIDE" "$PMHC_TEST_DIR/wide.bin" || fail "kcat could not send"
wide=$((before + 1))
gen_calls 3 W | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
wait_log "DLQ message cannot be delivered; the pipeline is stalled.* source_offset=$wide .*hint=\"the producer's queue is full" 60
ok "a dead letter larger than the producer's queue stalls the pipeline at offset $wide"
wait_sql "SELECT count(*) FROM pmhc.calls WHERE call_id LIKE 'W-%'" 3
ok "and the calls after it are still decided and stored"
stop_within "$TIMEOUT" "with the pipeline stalled"
write_config
start_daemon
for _ in $(seq 1 300); do
  [ "$(raw pmhc.dlq '%k\n' | grep -c 'LOAD/WIDE')" -ge 1 ] && break
  sleep 0.1
done
expect_eq "restarted with the default queue, pmhcd replays it to the DLQ" "$(raw pmhc.dlq '%k\n' | grep -c 'LOAD/WIDE')" 1
expect_eq "with its source offset" "$(raw pmhc.dlq '%k %h\n' | grep '^LOAD/WIDE ' | grep -o 'pmhc-source-offset=[0-9]*')" \
  "pmhc-source-offset=$wide"
stop_daemon
echo "undelivered: $checks checks passed"
