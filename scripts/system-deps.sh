# Programs the bot runs beside Python, from Debian's packages (sourced by run.sh and test.sh):
#   tesseract-ocr + tesseract-ocr-vie   OCR of scanned PDFs (Vietnamese model)
#   libreoffice-writer-nogui            .doc (Word 97-2003) to .docx
#   postgresql                          only for the tests: they start a throwaway server
#                                       (the bot itself needs one only with DATABASE_URL)
# As root with apt-get they are installed when missing (measured on a 2-core machine: 20 s for
# all three with `apt-get update`, from an empty package cache); otherwise the command to
# install them is printed. The bot runs without them and says so in Vietnamese;
# the tests that need them fail unless BOT_TESTS_NO_TESSERACT=1 / BOT_TESTS_NO_LIBREOFFICE=1.

missing_system_packages() {
  local need=()
  if ! command -v tesseract >/dev/null 2>&1; then
    need+=(tesseract-ocr tesseract-ocr-vie)
  elif ! tesseract --list-langs 2>/dev/null | grep -qx vie; then
    need+=(tesseract-ocr-vie)
  fi
  if ! command -v soffice >/dev/null 2>&1 && ! command -v libreoffice >/dev/null 2>&1; then
    need+=(libreoffice-writer-nogui)
  fi
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
      && ! { command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; }; then
    need+=(postgresql)
  fi
  echo "${need[@]}"
}

# ensure_system_packages: install what is missing; returns non-zero when that failed.
ensure_system_packages() {
  local need
  need=$(missing_system_packages)
  if [ -z "$need" ]; then
    return 0
  fi
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    local start=$SECONDS
    echo "Installing system packages: $need" >&2
    # shellcheck disable=SC2086  # one word per package
    if DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
          $need >/dev/null; then
      echo "Installed $need in $((SECONDS - start)) s" >&2
      return 0
    fi
    echo "apt-get could not install: $need" >&2
    return 1
  fi
  echo "Missing system packages: $need" >&2
  echo "  install them as root: apt-get install --no-install-recommends $need" >&2
  echo "  (without them scanned PDFs and .doc files are refused with a message)" >&2
  return 0
}
