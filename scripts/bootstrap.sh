#!/usr/bin/env bash
# Installs what lrr-es needs on a fresh machine, then the project itself into .venv. Safe to re-run:
# it is quick when nothing is missing.
#   - .venv: a plain virtualenv made with the machine's python3 (3.10+; $PYTHON chooses another),
#     holding lrr-es (editable) and the libraries pinned in constraints/ (from PyPI)
#   - Java and Maven from Debian's packages, only when missing and only for the embedded node
#     (not needed with ES_URL); the Elasticsearch 7.10.2 artifacts resolved once through Maven
#   - Chromium and its WebDriver from Debian's packages (chromium, chromium-driver), only when missing:
#     the admin panel's browser tests drive them headless (LRR_BROWSER=0 skips this step)
#   LRR_CONSTRAINTS  the constraints file (default constraints/es7.txt: client 7.17, the main suite)
#   LRR_EXTRAS       the extras to install (default test,es7)
#   LRR_VENV         where the virtualenv goes (default .venv)
#   LRR_NODE         which embedded node to prepare: 7.10 (default, the main suite) or 8.19 (the 8.x job,
#                    scripts/test-es8.sh, whose launcher resolves its own server zip at its first start)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "bootstrap: $*" >&2; }

PY="${PYTHON:-python3}"
VENV="${LRR_VENV:-.venv}"
CONSTRAINTS="${LRR_CONSTRAINTS:-constraints/es7.txt}"
EXTRAS="${LRR_EXTRAS:-test,es7}"
NODE="${LRR_NODE:-7.10}"

"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || {
  say "lrr-es needs Python 3.10 or newer; $PY is $("$PY" --version 2>&1) (set PYTHON=/path/to/python3.x)"; exit 2; }

if [ ! -x "$VENV/bin/python" ] || [ ! -x "$VENV/bin/pip" ]; then
  # also when an earlier, interrupted bootstrap left a venv without pip
  say "creating $VENV with $("$PY" --version 2>&1)"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi

# Reinstall only when the dependency declarations changed since the last successful install.
stamp="$VENV/.lrr-installed"
want="$(cat setup.cfg "$CONSTRAINTS" | sha256sum | cut -c1-16) $EXTRAS"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing lrr-es[$EXTRAS] into $VENV with $CONSTRAINTS"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[$EXTRAS]" -c "$CONSTRAINTS"
  echo "$want" > "$stamp"
fi

if [ "${LRR_BROWSER:-1}" != 0 ] && { ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; }; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    say "installing Chromium and chromium-driver from Debian's packages (the admin panel's browser tests)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    say "the admin panel's browser tests need Chromium and its driver (apt-get install chromium chromium-driver);" \
        "they fail without them"
  fi
fi

if [ -z "${ES_URL:-}${LRR_ES_URL:-}" ]; then
  if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      say "installing Java and Maven from Debian's packages (for the embedded Elasticsearch node)"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless maven >/dev/null
    else
      say "the embedded Elasticsearch node needs Java 11+ and Maven (apt-get install openjdk-17-jdk-headless maven)," \
          "or set ES_URL to a cluster of yours"
      exit 2
    fi
  fi
  if [ "$NODE" = 7.10 ]; then
    # Elasticsearch 7.10.2 from Maven Central, resolved once and cached
    "$VENV/bin/python" -c "from lrr_es.devcluster import resolve_classpath; resolve_classpath()"
  fi
fi
