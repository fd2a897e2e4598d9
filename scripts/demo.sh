#!/usr/bin/env bash
# The main job: install what is missing, start an embedded Elasticsearch, load the sample catalog, search.
# Arguments go to `lrr-es demo` (see: .venv/bin/lrr-es demo --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/lrr-es demo "$@"
