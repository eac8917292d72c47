# Checks a Prometheus text exposition (format 0.0.4) line by line: every line a
# HELP, a TYPE or a sample; names and labels well formed; every sample of a
# family whose TYPE came first, and each TYPE once. Prints each fault and exits
# 1 on any; prints "samples=N" and exits 0 otherwise.
function bad(why) { printf "line %d: %s: %s\n", NR, why, $0; faults++ }
BEGIN { name = "[a-zA-Z_:][a-zA-Z0-9_:]*"; lname = "[a-zA-Z_][a-zA-Z0-9_]*" }
/^# HELP / { if ($3 !~ ("^" name "$")) bad("HELP names no metric"); next }
/^# TYPE / {
  if ($3 !~ ("^" name "$") || $4 !~ /^(counter|gauge|histogram|summary|untyped)$/ || NF != 4) { bad("bad TYPE"); next }
  if ($3 in type) bad("TYPE twice")
  type[$3] = $4; next
}
/^#/ { next }
/^$/ { bad("empty line"); next }
{
  line = $0
  if (!match(line, "^" name)) { bad("no metric name"); next }
  metric = substr(line, 1, RLENGTH); rest = substr(line, RLENGTH + 1)
  if (substr(rest, 1, 1) == "{") {
    rest = substr(rest, 2)
    while (substr(rest, 1, 1) != "}") {
      if (!match(rest, "^" lname "=\"([^\"\\\\]|\\\\[\"\\\\n])*\"")) { bad("bad label"); next }
      rest = substr(rest, RLENGTH + 1)
      if (substr(rest, 1, 1) == ",") rest = substr(rest, 2)
      else if (substr(rest, 1, 1) != "}") { bad("labels not closed"); next }
    }
    rest = substr(rest, 2)
  }
  if (rest !~ /^ ([-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|[-+]?Inf|NaN)( -?[0-9]+)?$/) { bad("bad value"); next }
  fam = metric
  sub(/_(bucket|sum|count)$/, "", fam)
  if (!(metric in type) && !((fam in type) && type[fam] == "histogram")) bad("sample before its TYPE")
  samples++
}
END { if (faults) exit 1; print "samples=" samples }
