#!/usr/bin/env bash
# The 8.x job: elasticsearch-py 8.x (constraints/es8.txt, its own .venv-es8) against a REAL
# Elasticsearch 8.19.21 node, the integ-test distribution from Maven Central, which tests/es8 starts
# itself on $LRR_ES8_PORT (default 9420; transport on the next port) or finds at $LRR_ES8_URL.
# It needs Java 21+ (the newest Temurin/OpenJDK under /usr/lib/jvm, or $LRR_ES8_JAVA_HOME) and Maven.
# Covers the I/O layer (lrr_es.es), pass-through traffic and the capability check: that node has no
# Painless, rank_feature, analysis-common or reindex, so lrr-es itself is tested by scripts/test.sh.
# A node that cannot start fails the run. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
LRR_NODE=8.19 LRR_VENV=.venv-es8 LRR_CONSTRAINTS=constraints/es8.txt LRR_EXTRAS=test,es8 bash scripts/bootstrap.sh
exec .venv-es8/bin/python -m pytest -p no:cacheprovider tests/es8 "$@"
