#!/usr/bin/env bash
# Runs every test in every module of the workspace (go.work). In workspace
# mode `go test ./...` at the root would only test the root module, so this
# loops over `go list -m`. Extra arguments go to `go test` (e.g. -race, -run).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for dir in $(go list -m -f '{{.Dir}}'); do
  echo "== go test $dir"
  (cd "$dir" && go test -count=1 "$@" ./...) || status=1
done
exit $status
