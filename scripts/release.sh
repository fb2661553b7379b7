#!/usr/bin/env bash
# Prepares a release: scripts/release.sh [--apply] vX.Y.Z. Sets every
# requirement between the project's modules to vX.Y.Z, checks that each
# module builds and vets with GOWORK=off, prints the tags to push. Changes
# nothing without --apply. See tools/cmd/release.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./tools/cmd/release "$@"
