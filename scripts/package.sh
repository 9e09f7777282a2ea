#!/usr/bin/env bash
# make package: the terminal as a PyInstaller one-folder bundle (deploy/terminal/myna-terminal.spec), in
# build/dist/myna-terminal/. Rebuilt only when its sources changed: the hash of terminal_agent/, contracts/,
# deploy/terminal/, pyproject.toml and the PyInstaller version is kept next to the bundle.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

[ "${SKIP_INSTALL:-0}" = 1 ] || venv_ensure "server,terminal,dev,package"

mkdir -p build
exec 9>build/.package.lock
flock 9  # one build at a time (make package and the bundle test may race)

source_hash() {
  {
    find terminal_agent contracts deploy/terminal -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 \
      | sort -z | xargs -0 sha256sum
    sha256sum pyproject.toml
    "$VENV/bin/pyinstaller" --version
  } | sha256sum | cut -d' ' -f1
}

hash=$(source_hash)
bundle=build/dist/myna-terminal
if [ -x "$bundle/myna-terminal" ] && [ "$(cat build/myna-terminal.source-hash 2>/dev/null)" = "$hash" ]; then
  log "bundle up to date: $bundle"
  exit 0
fi
log "pyinstaller deploy/terminal/myna-terminal.spec"
started=$(date +%s)
rm -f build/myna-terminal.source-hash
"$VENV/bin/pyinstaller" --noconfirm --log-level WARN --distpath build/dist --workpath build/pyinstaller \
  deploy/terminal/myna-terminal.spec
echo "$hash" > build/myna-terminal.source-hash
log "bundle built in $(( $(date +%s) - started )) s: $bundle ($(du -sh "$bundle" | cut -f1))"
