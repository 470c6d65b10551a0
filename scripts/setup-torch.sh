#!/bin/sh
# npm run setup:torch: a project-local Python with PyTorch (CPU build) for the bench's PyTorch reference row
# (bench/torch_ref.py), in .venv-torch/ (git-ignored). Installs "torch==2.13.0+cpu" with pip from its
# configured index (a local one works). Idempotent: a second run only checks. Progress on stderr; a missing
# requirement is one `error:` line and exit 2.
set -u
cd "$(dirname "$0")/.." || exit 2
VENV=.venv-torch
TORCH="torch==2.13.0+cpu"
say() { echo "setup:torch: $*" >&2; }
fail() { echo "error: $*" >&2; exit 2; }

if [ -x "$VENV/bin/python" ] && v=$("$VENV/bin/python" -c 'import torch; print(torch.__version__)' 2>/dev/null) \
   && [ "$v" = "${TORCH#torch==}" ]; then
  say "PyTorch $v is ready in $VENV/; nothing to do"
  exit 0
fi
command -v python3 >/dev/null 2>&1 || fail "python3 not found on PATH: needed for the PyTorch virtual environment"
python3 -c 'import venv, ensurepip' 2>/dev/null || fail "python3 has no venv/ensurepip module (e.g. apt-get install python3-venv)"
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV/"
  python3 -m venv "$VENV" || fail "python3 -m venv $VENV failed"
fi
say "pip install $TORCH into $VENV/ (~200 MB download, ~1 GB installed; log: $VENV/install.log)"
# Short retries: an unreachable default index must not stall the install when a local one has the wheels.
if ! "$VENV/bin/python" -m pip install --retries 1 --timeout 20 "$TORCH" >"$VENV/install.log" 2>&1; then
  fail "pip install $TORCH failed: $(grep -m1 '^ERROR' "$VENV/install.log" || tail -n1 "$VENV/install.log") (log: $VENV/install.log)"
fi
v=$("$VENV/bin/python" -c 'import torch; print(torch.__version__)' 2>&1) || fail "torch does not import in $VENV/: $v"
say "PyTorch $v is ready in $VENV/"
