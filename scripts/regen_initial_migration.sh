#!/usr/bin/env bash
# Regenerate revision 0001 (the initial schema) from the current models.
#
# Only while nothing is deployed: it rewrites history. Later revisions (0002 onwards, such as
# the hand-written append-only ledger triggers) are kept as they are. On any failure the old
# 0001 is put back. Afterwards it proves the result: upgrade a fresh SQLite database to head,
# `alembic check` (models == migrations), downgrade to base and upgrade again.
#
# Usage: scripts/regen_initial_migration.sh      (from anywhere; uses the repo's .venv)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VERSIONS="migrations/versions"
TARGET="$VERSIONS/20261122_0001_initial.py"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
ALEMBIC=("$PY" -m alembic -c "$ROOT/alembic.ini")
RUFF=("$PY" -m ruff)

[[ -x "$PY" ]] || { echo "no $PY: run 'make install' first" >&2; exit 1; }

# Fail before touching any file if the models do not import.
"$PY" -c "import hpf.models" || { echo "hpf.models does not import; 0001 left as it was" >&2; exit 1; }

SCRATCH="$(mktemp -d -t hpf-regen-XXXXXX)"
mkdir -p "$SCRATCH/held" "$SCRATCH/old"
restored=0
restore() {
  # Put the later revisions back, and the old 0001 too if no new one was accepted.
  if [[ $restored -eq 0 ]]; then
    shopt -s nullglob
    for f in "$SCRATCH"/held/*.py; do mv -f "$f" "$VERSIONS/"; done
    if [[ ${accepted:-0} -eq 0 ]]; then
      for f in "$VERSIONS"/*_0001_*.py; do
        mkdir -p "$ROOT/var" && mv -f "$f" "$ROOT/var/rejected_0001_initial.py"
        echo "the rejected candidate is in var/rejected_0001_initial.py" >&2
      done
      for f in "$SCRATCH"/old/*.py; do mv -f "$f" "$VERSIONS/"; done
      echo "regeneration failed; the previous 0001 was restored" >&2
    fi
    restored=1
  fi
  rm -rf "$SCRATCH"
}
trap restore EXIT
accepted=0
# Alembic logs every table it sees; keep that for failures only.
quiet() { "$@" >"$SCRATCH/step.log" 2>&1 || { cat "$SCRATCH/step.log" >&2; return 1; }; }

shopt -s nullglob
for f in "$VERSIONS"/*.py; do
  case "$(basename "$f")" in
    *_0001_*) mv "$f" "$SCRATCH/old/" ;;
    *) mv "$f" "$SCRATCH/held/" ;;
  esac
done
rm -rf "$VERSIONS/__pycache__"

# With no revisions left, an empty database is "at head" and autogenerate emits the whole schema.
quiet "${ALEMBIC[@]}" -x "url=sqlite:///$SCRATCH/empty.sqlite3" \
  revision --autogenerate --rev-id 0001 -m initial
generated=( "$VERSIONS"/*_0001_*.py )
[[ ${#generated[@]} -eq 1 ]] || { echo "expected one generated 0001, got ${generated[*]}" >&2; exit 1; }
# A fixed name whatever day this runs: the revision stays "20261122_0001_initial".
[[ "${generated[0]}" == "$TARGET" ]] || mv "${generated[0]}" "$TARGET"
grep -q "op.create_table" "$TARGET" || { echo "generated 0001 creates no tables" >&2; exit 1; }

"${RUFF[@]}" check --quiet --fix --unsafe-fixes "$TARGET" >/dev/null || true
"${RUFF[@]}" format --quiet "$TARGET"
"${RUFF[@]}" check --quiet "$TARGET"

for f in "$SCRATCH"/held/*.py; do mv -f "$f" "$VERSIONS/"; done

# Prove it: one head, a fresh database migrates, and models == migrations.
heads="$("${ALEMBIC[@]}" heads | wc -l)"
[[ "$heads" -eq 1 ]] || { echo "expected one migration head, found $heads" >&2; exit 1; }
CHECK_URL="url=sqlite:///$SCRATCH/check.sqlite3"
quiet "${ALEMBIC[@]}" -x "$CHECK_URL" upgrade head
quiet "${ALEMBIC[@]}" -x "$CHECK_URL" check
quiet "${ALEMBIC[@]}" -x "$CHECK_URL" downgrade base
quiet "${ALEMBIC[@]}" -x "$CHECK_URL" upgrade head

accepted=1
tables="$(grep -c "op.create_table(" "$TARGET")"
echo "regenerated $TARGET ($tables tables); upgrade, check and downgrade passed on SQLite"
echo "run 'make test' to check PostgreSQL as well"
