#!/usr/bin/env bash
# Set up from nothing, then run the bot: on Telegram when BOT_TOKEN is set, otherwise a local
# chat with the sample plans loaded. Extra arguments go to `python -m bot run`.
# As root the system packages for scans (Tesseract) and .doc files (LibreOffice) are installed
# when missing; without them the bot still runs and refuses those files with a message.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/system-deps.sh
. scripts/system-deps.sh
ensure_system_packages || echo "Continuing without them." >&2
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
exec .venv/bin/python -m bot run "$@"
