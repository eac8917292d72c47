#!/usr/bin/env bash
# doc_links.sh [ROOT] — every link in the documentation resolves inside the repository.
#
# Reads README.md, adapters/README.md and every docs/**/*.md under ROOT (default:
# the repository this script sits in). For each markdown link or image target
# ([text](target), ![alt](target), [ref]: target, <scheme:...>) outside code
# fences and code spans, and each bare http(s):// or www. address (GitHub makes
# those links too):
#   - an absolute URL (any scheme:, or //host) is refused: the documentation
#     links only to files of the repository;
#   - a relative path (optionally with #anchor) must name an existing file or
#     directory inside ROOT;
#   - an #anchor into a markdown file (or a bare #anchor into the same file)
#     must match a heading's GitHub-style slug: lower case, punctuation dropped,
#     spaces turned into hyphens, a repeated heading suffixed -1, -2, ...
# Prints one line per broken link, FILE:LINE: target: reason, and exits 1 if
# there is any; 2 on a usage error. Needs only bash and a POSIX awk (no regex
# intervals such as {0,3}: Debian 12's mawk does not know them).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=${1:-$here/..}
if [ $# -gt 1 ] || [ ! -d "$root" ]; then
  echo "usage: doc_links.sh [REPOSITORY_ROOT]" >&2
  exit 2
fi
root=$(cd "$root" && pwd -P)
export LC_ALL=C

# The awk program has two modes: "links" prints LINE<TAB>TARGET for each link,
# "slugs" prints the slug of each heading (and each HTML id/name anchor).
read -r -d '' AWK_PROG <<'AWK'
function strip_code(s) {
  # Code spans (`x`, ``x``) hold no links.
  while (match(s, /``[^`]*(`[^`]+)*``/)) s = substr(s, 1, RSTART - 1) " " substr(s, RSTART + RLENGTH)
  while (match(s, /`[^`]*`/)) s = substr(s, 1, RSTART - 1) " " substr(s, RSTART + RLENGTH)
  return s
}
function slug(t,   s) {
  sub(/^[ \t]*#+[ \t]*/, "", t)
  sub(/[ \t]+#+[ \t]*$/, "", t)
  sub(/[ \t]+$/, "", t)
  # Rendered text: links and images become their text; code marks go.
  while (match(t, /!?\[[^\]]*\]\([^)]*\)/)) {
    s = substr(t, RSTART, RLENGTH)
    sub(/^!?\[/, "", s)
    sub(/\]\([^)]*\)$/, "", s)
    t = substr(t, 1, RSTART - 1) s substr(t, RSTART + RLENGTH)
  }
  gsub(/`/, "", t)
  t = tolower(t)
  # Punctuation GitHub drops, among the UTF-8 that headings use: general
  # punctuation (dashes, quotes, ellipsis), arrows, section sign, middle dot,
  # guillemets, multiplication sign.
  gsub(/\342\200[\200-\277]|\342\206[\200-\277]|\302[\247\267\253\273]|\303\227/, "", t)
  gsub(/[^a-z0-9 _\200-\377-]/, "", t)
  gsub(/ /, "-", t)
  return t
}
function emit_slug(t,   base, n) {
  t = slug(t)
  base = t
  n = seen[base]++
  if (n > 0) t = base "-" n
  print t
}
# One report per target per line: a URL written as a link is also a bare address.
function emit_link(n, target) {
  if ((n, target) in emitted) return
  emitted[n, target] = 1
  print n "\t" target
}
function links(line, n,   s, rest, i, c, depth, target, p, u) {
  s = strip_code(line)
  # Reference definitions: [id]: target
  if (match(s, /^ ? ? ?\[[^\]]+\]:[ \t]*/)) {
    rest = substr(s, RSTART + RLENGTH)
    if (rest ~ /^</) { sub(/^</, "", rest); sub(/>.*$/, "", rest) } else sub(/[ \t].*$/, "", rest)
    if (rest != "") emit_link(n, rest)
    return
  }
  # Autolinks: <scheme:...>
  rest = s
  while (match(rest, /<[A-Za-z][A-Za-z0-9+.-]*:[^ >]*>/)) {
    emit_link(n, substr(rest, RSTART + 1, RLENGTH - 2))
    rest = substr(rest, RSTART + RLENGTH)
  }
  # Bare addresses GitHub turns into links.
  rest = s
  while (match(rest, /(https?:\/\/|www\.)[^ \t)<>]+/)) {
    u = substr(rest, RSTART, RLENGTH)
    sub(/[.,;:!?]+$/, "", u)    # trailing punctuation is not part of it, as on GitHub
    emit_link(n, u)
    rest = substr(rest, RSTART + RLENGTH)
  }
  # Inline links and images: ](target "title")
  rest = s
  while ((p = index(rest, "](")) > 0) {
    rest = substr(rest, p + 2)
    sub(/^[ \t]+/, "", rest)
    if (substr(rest, 1, 1) == "<") {
      i = index(rest, ">")
      if (i == 0) continue
      target = substr(rest, 2, i - 2)
      rest = substr(rest, i + 1)
    } else {
      depth = 0
      target = ""
      for (i = 1; i <= length(rest); i++) {
        c = substr(rest, i, 1)
        if (c == " " || c == "\t") break
        if (c == "(") depth++
        if (c == ")") { if (depth == 0) break; depth-- }
        target = target c
      }
      rest = substr(rest, i)
    }
    if (target != "") emit_link(n, target)
  }
}
BEGIN { fence = "" }
{
  line = $0
  # Fenced code: ``` or ~~~, closed by a fence of the same kind at least as long.
  if (match(line, /^ ? ? ?(```+|~~~+)/)) {
    f = substr(line, RSTART, RLENGTH)
    gsub(/ /, "", f)
    if (fence == "") { fence = f; next }
    if (substr(f, 1, 1) == substr(fence, 1, 1) && length(f) >= length(fence) && line ~ /^ ? ? ?(```+|~~~+)[ \t]*$/) { fence = ""; next }
  }
  if (fence != "") next
  if (mode == "links") { links(line, NR); next }
  # slugs: ATX headings, setext headings, and HTML anchors.
  if (line ~ /^ ? ? ?##?#?#?#?#?([ \t]|$)/) { emit_slug(line); prev = ""; next }
  if (line ~ /^ ? ? ?(=+|-+)[ \t]*$/ && prev !~ /^[ \t]*$/ && prev !~ /^ ? ? ?([-*+]|[0-9]+[.)])[ \t]/ && prev != "") {
    emit_slug(prev); prev = ""; next
  }
  s = line
  while (match(s, /<a[ \t][^>]*(name|id)="[^"]+"/)) {
    a = substr(s, RSTART, RLENGTH)
    sub(/.*(name|id)="/, "", a)
    sub(/"$/, "", a)
    print a
    s = substr(s, RSTART + RLENGTH)
  }
  prev = line
}
AWK

# The anchors of a markdown file, one per line between newlines, in $slugs (cached).
declare -A slug_cache=()
load_slugs() {
  local f=$1
  if [ -z "${slug_cache[$f]+x}" ]; then
    slug_cache[$f]=$'\n'"$(awk -v mode=slugs "$AWK_PROG" "$f")"$'\n'
  fi
  slugs=${slug_cache[$f]}
}

# %XX escapes in a link, as a browser would read them.
urldecode() {
  local s=${1//+/%2B}
  printf '%b' "${s//%/\\x}"
}

files=()
for f in README.md adapters/README.md; do
  [ -f "$root/$f" ] && files+=("$f")
done
if [ -d "$root/docs" ]; then
  while IFS= read -r f; do files+=("${f#"$root"/}"); done < <(find "$root/docs" -type f -name '*.md' | sort)
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "doc_links.sh: no documentation found under $root" >&2
  exit 1
fi

broken=0
checked=0
report() {
  echo "$1:$2: $3: $4"
  broken=$((broken + 1))
}

for rel in "${files[@]}"; do
  file=$root/$rel
  dir=$(dirname "$file")
  while IFS=$'\t' read -r line target; do
    checked=$((checked + 1))
    case $target in
      //* | [A-Za-z]*:* | www.*)
        # A scheme is letters, digits, + . - before the colon; a path may hold a colon later.
        if [[ $target == //* || $target == www.* || $target =~ ^[A-Za-z][A-Za-z0-9+.-]*: ]]; then
          report "$rel" "$line" "$target" "absolute URL; link only to files in the repository"
          continue
        fi
        ;;
    esac
    path=${target%%#*}
    anchor=
    [[ $target == *"#"* ]] && anchor=${target#*#}
    path=${path%%\?*}
    path=$(urldecode "$path")
    if [ -z "$path" ]; then
      dest=$file
    else
      case $path in
        /*) report "$rel" "$line" "$target" "absolute path; use a path relative to $rel"; continue ;;
      esac
      dest=$dir/$path
      if [ ! -e "$dest" ]; then
        report "$rel" "$line" "$target" "no such file or directory"
        continue
      fi
      real=$(cd "$(dirname "$dest")" && pwd -P)/$(basename "$dest")
      if [[ $real != "$root" && $real != "$root"/* ]]; then
        report "$rel" "$line" "$target" "points outside the repository"
        continue
      fi
    fi
    if [ -n "$anchor" ]; then
      if [ -d "$dest" ] || [[ $dest != *.md ]]; then
        report "$rel" "$line" "$target" "an anchor needs a markdown file to point into"
        continue
      fi
      anchor=$(urldecode "$anchor")
      load_slugs "$dest"
      if [[ $slugs != *$'\n'"$anchor"$'\n'* ]]; then
        report "$rel" "$line" "$target" "no heading with anchor #$anchor in ${dest#"$root"/}"
      fi
    fi
  done < <(awk -v mode=links "$AWK_PROG" "$file")
done

if [ "$broken" -gt 0 ]; then
  echo "doc_links.sh: $broken broken of $checked links in ${#files[@]} files" >&2
  exit 1
fi
echo "doc_links.sh: $checked links in ${#files[@]} files, all resolve"
