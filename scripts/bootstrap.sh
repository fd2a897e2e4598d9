#!/usr/bin/env bash
# Installs everything lrr-es needs on a fresh machine, then the project itself into .venv.
# Safe to re-run: it only installs what is missing.
#   LRR_BOOTSTRAP=apt  Debian packages for the Python libraries (default where apt-get runs as root;
#                      this is the route on machines without a Python package index)
#   LRR_BOOTSTRAP=pip  a plain venv and pip install -e .[test] from the package index (setup.cfg)
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PYTHON="python3-elasticsearch python3-xgboost python3-numpy python3-scipy python3-sklearn python3-flask
 python3-pytest python3-click python3-yaml python3-hypothesis python3-jellyfish python3-levenshtein python3-tqdm
 python3-venv python3-pip python3-setuptools python3-wheel python3-selenium"
DEB_JAVA="openjdk-17-jdk-headless maven"

say() { echo "bootstrap: $*" >&2; }

mode="${LRR_BOOTSTRAP:-auto}"
if [ "$mode" = auto ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then mode=apt; else mode=pip; fi
fi

missing_debs() {
  local missing=""
  for p in $*; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  echo "$missing"
}

if [ "$mode" = apt ]; then
  want="$(missing_debs $DEB_PYTHON)"
  command -v java >/dev/null && command -v mvn >/dev/null || want="$want $(missing_debs $DEB_JAVA)"
  if [ -n "${want// /}" ]; then
    say "installing Debian packages:$want"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $want >/dev/null
  fi
  PY=/usr/bin/python3
  if [ ! -x .venv/bin/python ] || [ ! -x .venv/bin/pip ]; then
    # also when an earlier, interrupted bootstrap left a .venv without pip
    say "creating .venv (with the system site packages)"
    rm -rf .venv
    "$PY" -m venv --system-site-packages .venv
  fi
  # checked from / so that the import cannot come from the working directory
  root="$PWD"
  if [ ! -x .venv/bin/lrr-es ] || ! (cd / && "$root/.venv/bin/python" -c \
      "import lrr_es, sys; sys.exit(0 if lrr_es.__file__.startswith(sys.argv[1]) else 1)" "$root/") 2>/dev/null; then
    say "installing lrr-es into .venv (editable)"
    .venv/bin/pip install -q --no-deps --no-build-isolation -e . >/dev/null
  fi
elif [ "$mode" = pip ]; then
  command -v java >/dev/null || { say "Java 11+ is needed (e.g. apt-get install openjdk-17-jdk-headless) unless you set ES_URL"; }
  command -v mvn >/dev/null || { say "Maven is needed once to fetch Elasticsearch unless you set ES_URL"; }
  PY="${PYTHON:-python3}"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/pip install -q -e ".[test]"
else
  say "unknown LRR_BOOTSTRAP=$mode (use apt or pip)"; exit 2
fi

# Elasticsearch 7.10.2 artifacts from Maven Central, resolved once and cached (not needed with ES_URL).
if [ -z "${ES_URL:-}${LRR_ES_URL:-}" ]; then
  .venv/bin/python -c "from lrr_es.devcluster import resolve_classpath; resolve_classpath()"
fi
