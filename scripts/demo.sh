#!/usr/bin/env bash
# The main job: install what is missing, start an embedded Elasticsearch, load the sample catalog,
# search, run the learning loop (`lrr-es demo`), then the example app of examples/ before and after
# adopting lrr-es through its one-line change. Arguments go to `lrr-es demo` (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/lrr-es demo "$@"

port=9200 stop=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift ;;
    --port=*) port="${1#--port=}" ;;
    --stop) stop=1 ;;
  esac
  shift
done
if [ "$stop" = 0 ]; then
  echo
  echo "== the example app (examples/music_app.py) before and after adopting lrr-es =="
  ES_URL="${ES_URL:-http://127.0.0.1:$port}" .venv/bin/python examples/demo_app.py
fi
