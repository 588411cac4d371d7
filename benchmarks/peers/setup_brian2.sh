#!/usr/bin/env bash
# Build a separate virtual environment holding Brian2, for benchmarks/peers/brian2_reference.py.
#
#   bash benchmarks/peers/setup_brian2.sh [VENV_DIR]
#
# VENV_DIR defaults to $BRIAN2_VENV, else benchmarks/peers/.venv-brian2 (git-ignored).
# $PYTHON picks the interpreter that creates the venv (default: python3, else python).
# Brian2 never goes into the interpreter that runs Spikey: its numpy pin would fight ours.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:-${BRIAN2_VENV:-$here/.venv-brian2}}"
python="${PYTHON:-$(command -v python3 || command -v python)}"

# Brian2 2.9 is the newest 2.x on pip; numpy 2.3 is the newest line it is tested against.
BRIAN2_SPEC="${BRIAN2_SPEC:-brian2>=2.9,<3}"
NUMPY_SPEC="${NUMPY_SPEC:-numpy>=2.3,<2.4}"
CYTHON_SPEC="${CYTHON_SPEC:-cython>=3.0,<4}"

if [ ! -x "$venv/bin/python" ]; then
    echo "creating $venv with $python"
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
# setuptools provides distutils-style build helpers Brian2's cython and standalone targets use.
"$venv/bin/python" -m pip install --quiet "$BRIAN2_SPEC" "$NUMPY_SPEC" "$CYTHON_SPEC" setuptools

"$venv/bin/python" - <<'EOF'
import brian2, numpy, Cython, sys
print(f"Brian2 {brian2.__version__}, numpy {numpy.__version__}, Cython {Cython.__version__}, "
      f"Python {sys.version.split()[0]} at {sys.executable}")
EOF
echo "run: $venv/bin/python $here/brian2_reference.py"
