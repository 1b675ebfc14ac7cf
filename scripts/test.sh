#!/usr/bin/env bash
# Set up from nothing (system packages when root, virtual environment + requirements.txt), then
# run the whole test suite. Tests needing Tesseract or LibreOffice fail when those are missing,
# unless BOT_TESTS_NO_TESSERACT=1 / BOT_TESTS_NO_LIBREOFFICE=1 say this machine has none.
# A first argument --lint runs `ruff check .` and mypy (settings in pyproject.toml) before the
# tests and stops on any finding; the other arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/system-deps.sh
. scripts/system-deps.sh
ensure_system_packages
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
if [ "${1:-}" = "--lint" ]; then
  shift
  .venv/bin/ruff check .
  .venv/bin/mypy
fi
exec .venv/bin/python -m pytest -q "$@"
