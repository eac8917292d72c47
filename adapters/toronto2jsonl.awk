# toronto2jsonl.awk — Toronto Police Service "Persons in Crisis Calls for
# Service Attended" CSV rows to pmhc-produce JSON lines (one call per row).
# Normally run by the wrapper adapters/toronto2jsonl; see adapters/README.md.
#
# POSIX awk only: it must give byte-identical output under mawk (Debian's
# default awk) and gawk. So: no mktime/strftime, no srand/rand (their
# sequences differ between implementations), no bitwise functions, no {n}
# regex intervals, and all arithmetic on integers below 2^53, which both hold
# exactly in a double. Run it with LC_ALL=C (the wrapper does).
#
# Input: CSV with a header line naming at least objectid, event_year,
# event_month, event_dow and event_type, in any order. The wrapper puts a line
# "\001FILE<TAB>name" before each file; without one, the input is one file
# named by -v file=NAME (default "-").
#
# Settings (environment, so that no awk escape processing touches them):
#   T2J_PSAP   psap_id of every call (default TPS)
#   T2J_LIMIT  convert only the first N data rows of all input (0: all)
#   T2J_TSV    1: print "call_id TAB local time TAB received_at_ms TAB
#              nature_code" instead of JSON, to check the synthesized times
#
# Each row becomes
#   {"type":"call","call_id":"TPS-<year>-<objectid>","psap_id":"TPS","revision":1,
#    "received_at_ms":...,"source":"SOURCE_911","nature_code":"EDP",
#    "nature_text":"Person in Crisis"}
# with no screening answers (all unknown: the records have none).
#
# received_at_ms is synthesized, deterministically from objectid: the records
# give only year, month and weekday. A hash of objectid picks one of the 4 or 5
# days of that month that fall on that weekday, and a second hash a second of
# that day, in Toronto local time. Local time goes to UTC with the rule in force
# in Ontario since 2007: UTC-4 (EDT) from the second Sunday of March 02:00 to the
# first Sunday of November 02:00 local, UTC-5 (EST) otherwise. A local time that
# the switch makes ambiguous or non-existent is read as standard time (UTC-5),
# as PostgreSQL reads such a timestamp:
#   - second Sunday of March, 02:00-02:59 does not exist: stored as 03:00-03:59
#     EDT (that day's 03:00 hour gets twice its share);
#   - first Sunday of November, 01:00-01:59 happens twice: the second (EST)
#     one is used.
# The local date, and so the month and the weekday, is never changed. Years
# before 2007 (other DST rules) are refused.
#
# Exit status: 0; 65 if a file lacks a needed column (its rows are skipped,
# the other files are still converted).

BEGIN {
    prog = "toronto2jsonl"
    psap = ("T2J_PSAP" in ENVIRON && ENVIRON["T2J_PSAP"] != "") ? ENVIRON["T2J_PSAP"] : "TPS"
    limit = ("T2J_LIMIT" in ENVIRON && ENVIRON["T2J_LIMIT"] != "") ? ENVIRON["T2J_LIMIT"] + 0 : 0
    tsv = ("T2J_TSV" in ENVIRON && ENVIRON["T2J_TSV"] == "1")
    P = 2147483647          # 2^31 - 1, a prime: the hash's modulus
    split("January February March April May June July August September October November December", mname, " ")
    for (i = 1; i <= 12; i++) {
        month_of[tolower(mname[i])] = i
        month_of[i ""] = i
        month_of[sprintf("%02d", i)] = i
    }
    split("Sunday Monday Tuesday Wednesday Thursday Friday Saturday", dname, " ")
    for (i = 1; i <= 7; i++) dow_of[tolower(dname[i])] = i - 1     # 0 = Sunday
    code_of["person in crisis"] = "EDP"
    code_of["suicide-related"] = "SUICIDE"
    code_of["overdose"] = "OD"
    ncodes = split("EDP SUICIDE OD", codes, " ")
    split("objectid event_year event_month event_dow event_type", need, " ")
}

# --- helpers -------------------------------------------------------------------

function start_file(name) {
    end_file()
    file = name
    fline = 0
    header_done = 0
    file_ok = 1
    f_rows = 0; f_calls = 0; f_skipped = 0
    in_file = 1
}

function end_file() {
    if (!in_file) return
    in_file = 0
    if (!file_ok) return
    if (!header_done) {
        printf "%s: %s: empty input, no header line\n", prog, file > "/dev/stderr"
        bad_files++
        return
    }
    printf "%s: %s: %d rows, %d calls, %d skipped\n", prog, file, f_rows, f_calls, f_skipped > "/dev/stderr"
}

function trim(s) {
    sub(/^[ \t]+/, "", s)
    sub(/[ \t]+$/, "", s)
    return s
}

# Split one CSV line into out[1..n] (RFC 4180 quoting within the line); return n,
# or -1 for an unterminated quote.
function csv_split(line, out,    n, i, len, c, f, inq) {
    if (index(line, "\"") == 0) return split(line, out, ",")
    n = 0; f = ""; inq = 0; len = length(line)
    for (i = 1; i <= len; i++) {
        c = substr(line, i, 1)
        if (inq) {
            if (c == "\"") {
                if (substr(line, i + 1, 1) == "\"") { f = f "\""; i++ }
                else inq = 0
            } else f = f c
        } else if (c == "\"") inq = 1
        else if (c == ",") { out[++n] = f; f = "" }
        else f = f c
    }
    if (inq) return -1
    out[++n] = f
    return n
}

# A JSON string literal. Character by character, and only when needed: mawk
# and gawk read backslashes in a gsub() replacement differently.
function json_str(s,    r, i, c, k) {
    if (s !~ /[\\"\001-\037]/) return "\"" s "\""
    r = ""
    for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "\\" || c == "\"") r = r "\\" c
        else if ((k = index(ctl_chars(), c)) > 0) r = r sprintf("\\u%04x", k)
        else r = r c
    }
    return "\"" r "\""
}

function ctl_chars(    i) {
    if (ctl == "") for (i = 1; i <= 31; i++) ctl = ctl sprintf("%c", i)
    return ctl
}

function skip_row(why) {
    printf "%s: %s:%d: %s; row skipped\n", prog, file, fline, why > "/dev/stderr"
    f_skipped++; skipped++
}

# Days from 1970-01-01 to the proleptic Gregorian date y-m-d (H. Hinnant's
# days_from_civil), for y >= 1.
function days_from_civil(y, m, d,    era, yoe, doy, doe) {
    if (m <= 2) y--
    era = int(y / 400)
    yoe = y - era * 400
    doy = int((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1
    doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy
    return era * 146097 + doe - 719468
}

function weekday(days) {                 # 0 = Sunday; 1970-01-01 was a Thursday
    return ((days + 4) % 7 + 7) % 7
}

function days_in_month(y, m) {
    if (m == 2) return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28
    return (m == 4 || m == 6 || m == 9 || m == 11) ? 30 : 31
}

# Day of month of the n-th weekday wd (0 = Sunday) in y-m.
function nth_weekday(y, m, wd, n) {
    return 1 + (wd - weekday(days_from_civil(y, m, 1)) + 7) % 7 + 7 * (n - 1)
}

# A small integer hash of a digit string, the same in every awk: every
# intermediate value stays below 2^47. Multiply-add rounds modulo 2^31-1, with
# a product of the two halves between them so that it is not affine.
function hash(s, salt,    h, i) {
    h = salt
    for (i = 1; i <= length(s); i++)
        h = (h * 131 + index("0123456789", substr(s, i, 1)) + 1) % P
    h = (h * 48271 + 12345) % P
    h = (h + int(h / 65536) * (h % 65536)) % P
    h = (h * 69621 + 1) % P
    h = (h + int(h / 65536) * (h % 65536)) % P
    h = (h * 48271 + 7) % P
    return h
}

# --- input ----------------------------------------------------------------------

/^\001FILE\t/ {
    start_file(substr($0, 7))
    next
}

{
    if (!in_file) start_file(file == "" ? "-" : file)
    fline++
    sub(/\r$/, "")
    if (!file_ok || $0 ~ /^[ \t]*$/) next
    if (!header_done) {
        header_done = 1
        sub(/^\357\273\277/, "")                 # a UTF-8 byte-order mark
        ncols = csv_split($0, hdr)
        for (k in col) delete col[k]
        for (i = 1; i <= ncols; i++) col[tolower(trim(hdr[i]))] = i
        missing = ""
        for (i = 1; i <= 5; i++)
            if (!(need[i] in col)) missing = missing (missing == "" ? "" : ", ") need[i]
        if (missing != "") {
            file_ok = 0
            bad_files++
            why = ""
            if (("objectid" in col) && ("event_type" in col) && (!("event_year" in col) || !("event_month" in col)))
                why = ": its rows cannot be placed in a year and month, so no time can be given to them"
            printf "%s: %s: no %s column%s (header: %s)%s; file skipped, see adapters/README.md\n", \
                prog, file, missing, (index(missing, ",") ? "s" : ""), $0, why > "/dev/stderr"
        }
        next
    }
    if (limit > 0 && rows >= limit) { limit_hit = 1; next }
    rows++; f_rows++

    n = csv_split($0, fld)
    if (n < 0) { skip_row("unterminated quoted field"); next }
    if (n != ncols) { skip_row(n " fields, the header has " ncols); next }
    objectid = trim(fld[col["objectid"]])
    year = trim(fld[col["event_year"]])
    month = tolower(trim(fld[col["event_month"]]))
    dow = tolower(trim(fld[col["event_dow"]]))
    etype = trim(fld[col["event_type"]])

    if (objectid !~ /^[0-9]+$/ || length(objectid) > 15) { skip_row("objectid \"" objectid "\" is not a whole number"); next }
    if (year !~ /^[0-9][0-9][0-9][0-9]$/) { skip_row("event_year \"" year "\" is not a year"); next }
    if (year + 0 < 2007) { skip_row("event_year " year " is before 2007, when Toronto's current DST rules began"); next }
    if (!(month in month_of)) { skip_row("event_month \"" fld[col["event_month"]] "\" is not a month"); next }
    if (!(dow in dow_of)) { skip_row("event_dow \"" fld[col["event_dow"]] "\" is not a weekday"); next }
    if (!(tolower(etype) in code_of)) {
        skip_row("event_type \"" etype "\" is not Person in Crisis, Suicide-related or Overdose"); next
    }
    call_id = psap "-" year "-" objectid
    if (call_id in seen) { skip_row("objectid " objectid " of " year " again (first on line " seen[call_id] ")"); next }
    seen[call_id] = fline

    y = year + 0; m = month_of[month]; wd = dow_of[dow]
    first = nth_weekday(y, m, wd, 1)
    count = int((days_in_month(y, m) - first) / 7) + 1
    day = first + 7 * (hash(objectid, 17) % count)
    sec = hash(objectid, 91) % 86400

    days = days_from_civil(y, m, day)
    localsec = days * 86400 + sec
    dst_from = days_from_civil(y, 3, nth_weekday(y, 3, 0, 2)) * 86400 + 3 * 3600   # first EDT wall-clock time
    dst_to = days_from_civil(y, 11, nth_weekday(y, 11, 0, 1)) * 86400 + 1 * 3600   # first ambiguous wall-clock time
    offset = (localsec >= dst_from && localsec < dst_to) ? 4 : 5
    ms = (localsec + offset * 3600) * 1000

    code = code_of[tolower(etype)]
    ncalls[code]++; calls++; f_calls++
    if (tsv)
        printf "%s\t%04d-%02d-%02d %02d:%02d:%02d\t%.0f\t%s\n", call_id, y, m, day,
            int(sec / 3600), int(sec % 3600 / 60), sec % 60, ms, code
    else
        printf "{\"type\":\"call\",\"call_id\":%s,\"psap_id\":%s,\"revision\":1,\"received_at_ms\":%.0f,\"source\":\"SOURCE_911\",\"nature_code\":\"%s\",\"nature_text\":%s}\n",
            json_str(call_id), json_str(psap), ms, code, json_str(etype)
}

END {
    end_file()
    by = ""
    for (i = 1; i <= ncodes; i++) by = by (i > 1 ? ", " : "") codes[i] " " (ncalls[codes[i]] + 0)
    printf "%s: %d rows read, %d calls written (%s), %d rows skipped, %d files skipped%s\n", prog,
        rows, calls, by, skipped, bad_files + 0, (limit_hit ? "; stopped at --limit " limit : "") > "/dev/stderr"
    exit (bad_files ? 65 : 0)
}
