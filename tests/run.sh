#!/usr/bin/env bash
# The test command of the README: installs what the tests need, then runs them.
#   bash tests/run.sh            # everything, browser tests included
#   bash tests/run.sh -k engine  # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet -e '.[test,dask]'
# PyTorch is an optional oracle for a few tests (CPU build, 2.13.0); they are skipped without it.
python -c 'import torch' 2>/dev/null || python -m pip install --quiet 'torch==2.13.0' \
  || echo "note: torch not installed; the PyTorch cross-checks will be skipped"
# Browser tests drive Debian's Chromium through Playwright (Playwright cannot download browsers here).
if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
      || echo "note: could not install chromium; browser tests will fail in CI and skip elsewhere"
  fi
fi
export NO_MKDOCS_2_WARNING=1
exec python -m pytest -q "$@"
