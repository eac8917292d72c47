#!/usr/bin/env bash
# pmhcd-kafka-acls.sh — give pmhcd's Kafka principal exactly the ACLs a live
# pmhcd needs on a cluster with an authorizer, and nothing more (or take them
# away again with --remove). docs/operations.md lists them; the integration
# test tests/integration/kafka_acl.sh runs this script as it is and shows pmhcd
# working end to end with these ACLs alone.
set -euo pipefail

readonly PROG=pmhcd-kafka-acls.sh

usage() {
    cat <<EOF
Usage: $PROG --bootstrap-server BROKERS --command-config FILE [OPTION]...
Grant pmhcd's Kafka principal what a live pmhcd needs, with Kafka's kafka-acls.sh:

  Read     topics cad.calls, cad.dispositions (its consumer group's topics),
           cad.units and pmhc.recommendations (read outside the group: the
           roster, the other instances' unit holds, and a recommendation the
           broker may have written, looked for before it is sent again), and
           group pmhcd
  Write    topics pmhc.recommendations and pmhc.dlq
  Describe groups whose names begin with "pmhcd-reader-": the readers of
           cad.units and pmhc.recommendations name a group of their own
           ("pmhcd-reader-PID") that they never join; librdkafka still looks
           up its coordinator

With --backfill, also what pmhcd --backfill needs for its run:

  Read     topic cad.history and group pmhcd-backfill (kafka.group_id with
           "-backfill": a backfill commits its own offsets)

Read and Write imply Describe on the same topic or group. Nothing else: not
Read on pmhc.dlq, no cluster operation (the idempotent producer needs Write on
a topic, not IdempotentWrite, since Kafka 3.0), no topic creation.

  --bootstrap-server BROKERS   the cluster, as kafka-acls.sh takes it
  --command-config FILE        the admin's client config (kafka-acls.sh's)
  --principal P                pmhcd's principal (default User:pmhcd)
  --group G                    kafka.group_id (default pmhcd)
  --topic ROLE=NAME            a topic not of the default name, ROLE one of
                               calls, dispositions, units, recommendations, dlq,
                               history (the keys of pmhcd.conf's topics section);
                               repeatable
  --backfill                   the backfill's ACLs too (with --remove: only them)
  --remove                     remove these ACLs instead (kafka-acls.sh --force)
  --dry-run                    print the kafka-acls.sh commands, run nothing
  -h, --help                   this help

KAFKA_ACLS is the kafka-acls command (default: kafka-acls.sh, from Kafka's bin/
on PATH); it may carry arguments of its own before the ones this script adds.
Adding an ACL that exists already changes nothing, so running this again is safe.
Exit status: kafka-acls.sh's (0 when every command succeeded); 2 on a usage error.
EOF
}

usage_error() {
    echo "$PROG: $*" >&2
    echo "Try '$PROG --help' for more information." >&2
    exit 2
}

bootstrap='' command_config='' principal=User:pmhcd group=pmhcd action=--add dry=0 backfill=0
declare -A topic=([calls]=cad.calls [dispositions]=cad.dispositions [units]=cad.units
    [recommendations]=pmhc.recommendations [dlq]=pmhc.dlq [history]=cad.history)

while [[ $# -gt 0 ]]; do
    case $1 in
    --bootstrap-server | --command-config | --principal | --group | --topic)
        [[ $# -ge 2 && -n $2 ]] || usage_error "$1 needs a value"
        case $1 in
        --bootstrap-server) bootstrap=$2 ;;
        --command-config) command_config=$2 ;;
        --principal) principal=$2 ;;
        --group) group=$2 ;;
        --topic)
            [[ $2 =~ ^(calls|dispositions|units|recommendations|dlq|history)=[A-Za-z0-9._-]+$ ]] ||
                usage_error "--topic $2: expected ROLE=NAME, ROLE one of calls dispositions units recommendations dlq history"
            topic[${2%%=*}]=${2#*=}
            ;;
        esac
        shift 2
        ;;
    --remove)
        action=--remove
        shift
        ;;
    --backfill)
        backfill=1
        shift
        ;;
    --dry-run)
        dry=1
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        usage_error "unexpected argument \"$1\""
        ;;
    esac
done
[[ -n $bootstrap ]] || usage_error "--bootstrap-server is required"
[[ -n $command_config ]] || usage_error "--command-config is required"
[[ $principal == *:* ]] || usage_error "--principal $principal: expected TYPE:NAME, e.g. User:pmhcd"

read -ra acls <<<"${KAFKA_ACLS:-kafka-acls.sh}"
common=(--bootstrap-server "$bootstrap" --command-config "$command_config" "$action"
    --allow-principal "$principal")
[[ $action == --add ]] || common+=(--force)

# run ARGS...: one kafka-acls.sh (printed instead with --dry-run). One per
# operation and pattern type: kafka-acls.sh applies each of its operations to
# each of its resources, and a group takes no Write.
rc=0
run() {
    if ((dry)); then
        printf '%s\n' "${acls[*]} ${common[*]} $*"
    else
        "${acls[@]}" "${common[@]}" "$@" || rc=$?
    fi
}
# A backfill's removal leaves the live pmhcd's ACLs in place.
if [[ $action == --add || $backfill == 0 ]]; then
    run --operation Read --topic "${topic[calls]}" --topic "${topic[dispositions]}" --topic "${topic[units]}" \
        --topic "${topic[recommendations]}" --group "$group"
    run --operation Write --topic "${topic[recommendations]}" --topic "${topic[dlq]}"
    run --operation Describe --resource-pattern-type prefixed --group "$group-reader-"
fi
if ((backfill)); then
    run --operation Read --topic "${topic[history]}" --group "$group-backfill"
fi
exit "$rc"
