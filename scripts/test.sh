#!/usr/bin/env bash
# The whole test suite: unit tests and integration tests against a REAL Elasticsearch node that the
# suite starts itself (tests/conftest.py), or the cluster at $ES_URL. A node that cannot start fails the run.
# Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
