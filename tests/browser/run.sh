#!/usr/bin/env bash
# The migration report in a real browser: the page of the bundled example (its live.json
# snapshot), of a generated 10,000-mailbox tenant with a journal, and of desired-state and tenant
# text that would be markup if it were not escaped, each opened in headless Chromium
# (check-page.js): every exception shown, the counts right, no script or active element, no
# request but the page itself.
# Screenshots and PDF prints are kept in OUT. Without Chromium or Node the test says so and is
# skipped (exit 77), never passed.
#   run.sh AUTHGATE FIXTURE REPO OUT
set -uo pipefail
authgate=$1 fixture=$2 repo=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out" && mkdir -p "$out"
status=0
fail() { echo "FAIL: $*"; status=1; }

# A page must be small, and name no secret or connection setting (the example's tenant.toml
# gives a certificate path and an application id; the journal's location is --state's).
check_file() {
    local page=$1 limit=$2 size
    size=$(stat -c %s "$page")
    [ "$size" -lt "$limit" ] || fail "$page is $size bytes, the limit is $limit"
    for secret in authgate.pem secrets/ AUTHGATE_CERT_PASSWORD 6f1c0e2a-0000-4000-8000-000000000001 state.db "$out"; do
        ! grep -qF -- "$secret" "$page" || fail "$page shows '$secret'"
    done
    echo "$(basename "$page"): $size bytes"
}

# 1. The pages.
cd "$repo" || exit 1
"$authgate" report -c examples/contoso --snapshot examples/contoso/live.json --at 2026-11-22T10:00:00Z \
    --state "$out/contoso-state.db" --out "$out/contoso.html" >/dev/null || fail "report of the example"
# Hostile text from the tenant too: its default authentication policy, as a snapshot names it.
sed 's#"DefaultAuthenticationPolicy": null#"DefaultAuthenticationPolicy": "<script>alert(\\"live\\")</script><img src=x onerror=alert(2)>"#' \
    examples/contoso/live.json >"$out/hostile-live.json"
grep -qF '<img src=x onerror=alert(2)>' "$out/hostile-live.json" || fail "the hostile snapshot was not made"
"$authgate" report -c "$here/hostile" --snapshot "$out/hostile-live.json" --at 2026-11-22T10:00:00Z \
    --state "$out/contoso-state.db" --out "$out/hostile.html" >/dev/null || fail "report of the hostile text"
"$fixture" "$out/tenant-10000" 10000 >"$out/tenant-10000.expected" || fail "the generated tenant"
"$authgate" report -c "$out/tenant-10000/desired" --snapshot "$out/tenant-10000/seed.json" \
    --state "$out/tenant-10000/state.db" --out "$out/tenant-10000.html" >/dev/null || fail "report of the generated tenant"
[ "$status" -eq 0 ] || exit 1
check_file "$out/contoso.html" 1000000
check_file "$out/hostile.html" 1000000
check_file "$out/tenant-10000.html" 5000000
! grep -qi '<script\|<img\|<iframe' "$out/hostile.html" || fail "hostile.html holds an element from the desired state"

# 2. In the browser.
chromium=$(command -v chromium || command -v chromium-browser || true)
node=$(command -v node || command -v nodejs || true)
if [ -z "$chromium" ] || [ -z "$node" ]; then
    echo "chromium or node is missing (apt-get install chromium nodejs): the browser checks are skipped"
    [ "$status" -eq 0 ] && exit 77
    exit 1
fi
value() { sed -n "s/^$1=//p" "$out/tenant-10000.expected"; }
{
    printf '{"exceptions": ['
    grep -o '"user[0-9]*@fabrikam.com"' "$out/tenant-10000/desired/exceptions.toml" | paste -sd, -
    printf '], "counts": {"#exception-count": "%s", "#cutoff-count": "%s"},\n' "$(value exceptions)" "$(value cutoffs)"
    printf ' "rows": {"tr.cutoff": %s, "tr.drift.open": %s, "tr.drift.closed": %s, "tr.run": %s, "#burn-down path": 1}}\n' \
        "$(value cutoffs)" "$(value open_drift)" "$(value closed_drift)" "$(value runs)"
} >"$out/tenant-10000.json"
"$node" "$here/check-page.js" "$chromium" "$out/contoso.html" "$here/contoso.expected.json" "$out/contoso" || status=1
"$node" "$here/check-page.js" "$chromium" "$out/hostile.html" "$here/hostile/expected.json" "$out/hostile" || status=1
"$node" "$here/check-page.js" "$chromium" "$out/tenant-10000.html" "$out/tenant-10000.json" "$out/tenant-10000" || status=1
exit $status
