#!/usr/bin/env bash
# The huge desired states of tests/bad_input/generate through the real binary, each under a
# limit of virtual memory: each is read within it and gives exactly its expected answer, and a
# plan of a broken one prints no plan at all.
#   tests/bad_input/run.sh AUTHGATE ROOT
set -u
authgate=$1 root=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$root/tests/bad_input/generate" "$dir/inputs"
limit_kb=$((512 * 1024))  # far above what any of them needs; a parser that copies or recurses without bound fails it
status=0

# check NAME EXPECTED_RC EXPECTED_OUTPUT COMMAND...: stdout then stderr, with the folder written as DIR.
check() {
    local name=$1 expected_rc=$2 expected=$3
    shift 3
    local rc actual
    # Under AddressSanitizer (scripts/sanitize) the limit cannot hold: ASan reserves terabytes of
    # address space for its shadow. That build checks memory errors instead of the bound.
    local limit="ulimit -v $limit_kb"
    [ -n "${AUTHGATE_SANITIZED:-}" ] && limit=true
    actual=$( ($limit && env -u GITHUB_ACTIONS -u GITHUB_STEP_SUMMARY "$authgate" "$@") 2>&1)
    rc=$?
    actual=${actual//$dir\/inputs/DIR}
    if [ "$rc" != "$expected_rc" ] || [ "$actual" != "$expected" ]; then
        echo "FAIL $name: exit $rc (expected $expected_rc)"
        diff -u <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") | head -c 2000
        echo
        status=1
    else
        echo "ok   $name"
    fi
}

at=(--at 2026-11-22T10:00:00Z)
check "a 10 MB reason" 0 "Valid: 1 file, 1 exception, 0 policies, 0 warnings." \
    validate -c "$dir/inputs/long_reason" "${at[@]}"
check "a 10 MB address" 1 "DIR/long_address/desired.toml:5:9: error: 'deny[0]' is not a plausible mail address: \"$(printf 'a%.0s' {1..120})... (10485772 bytes)\"
1 error; nothing was changed." \
    validate -c "$dir/inputs/long_address" "${at[@]}"
check "100,000 exceptions" 0 "Valid: 1 file, 100000 exceptions, 0 policies, 0 warnings." \
    validate -c "$dir/inputs/exceptions_100000" "${at[@]}"
check "100,000 exceptions in 100 files, one duplicate across them" 1 \
    "DIR/exceptions_100_files/team-099.toml:6994:1: error: duplicate exception for mailbox 'device-0@contoso.com' (first declared at DIR/exceptions_100_files/team-000.toml:1:1)
1 error; nothing was changed." \
    validate -c "$dir/inputs/exceptions_100_files" "${at[@]}"
check "10,000 nested arrays" 1 \
    "DIR/nested_arrays/desired.toml:5:74: error: nested more than 64 levels deep (tables, dotted keys, arrays); a desired state needs a few
1 error; nothing was changed." \
    validate -c "$dir/inputs/nested_arrays" "${at[@]}"
check "a table header of 100,000 parts" 1 \
    "DIR/deep_header/desired.toml:4:129: error: nested more than 64 levels deep (tables, dotted keys, arrays); a desired state needs a few
1 error; nothing was changed." \
    validate -c "$dir/inputs/deep_header" "${at[@]}"
check "no plan from a broken desired state" 1 \
    "DIR/deep_header/desired.toml:4:129: error: nested more than 64 levels deep (tables, dotted keys, arrays); a desired state needs a few
1 error; nothing was changed." \
    plan -c "$dir/inputs/deep_header" --snapshot "$root/examples/contoso/live.json" "${at[@]}"
exit $status
