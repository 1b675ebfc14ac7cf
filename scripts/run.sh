#!/usr/bin/env bash
# Set up from nothing, then run the bot: on Telegram when BOT_TOKEN is set, otherwise a local
# chat with the sample plans loaded. Extra arguments go to `python -m bot run`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
exec .venv/bin/python -m bot run "$@"
