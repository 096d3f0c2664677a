#!/usr/bin/env bash
# Runs one CLI case: the real authgate binary with the case's arguments, from the repository
# root, and compares exit code, stdout and stderr exactly with the expected files.
#   cases/NAME/args             the arguments, one per line
#   cases/NAME/expected_rc      the exit code
#   cases/NAME/expected_stdout  optional; compared when present
#   cases/NAME/expected_stderr  optional; compared when present
set -u
authgate=$1 root=$2 case_dir=$3
cd "$root" || exit 1
mapfile -t args < "$case_dir/args"
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
# Goldens must not depend on where they run (GitHub Actions adds annotations).
env -u GITHUB_ACTIONS -u GITHUB_STEP_SUMMARY -u GITHUB_SERVER_URL -u GITHUB_REPOSITORY -u GITHUB_SHA \
    -u GITHUB_WORKSPACE "$authgate" "${args[@]}" >"$out" 2>"$err"
rc=$?
status=0
expected_rc=$(cat "$case_dir/expected_rc")
if [ "$rc" != "$expected_rc" ]; then
    echo "exit code $rc, expected $expected_rc"; status=1
fi
for stream in stdout stderr; do
    expected="$case_dir/expected_$stream"
    [ -f "$expected" ] || continue
    actual=$out; [ "$stream" = stderr ] && actual=$err
    if ! diff -u "$expected" "$actual"; then echo "$stream differs"; status=1; fi
done
exit $status
