#!/usr/bin/env bash
# Enclave's pre-commit gate, installed as .git/hooks/pre-commit by simple-git-hooks when
# `npm install` runs (package.json "simple-git-hooks" and "prepare"). Skip it once, in an
# emergency, with `git commit --no-verify` or SKIP_SIMPLE_GIT_HOOKS=1: CI runs the same gates.
#
# Steps, in this order (ENCLAVE_HOOK_STEPS picks some, e.g. "scan lint"):
#   scan       `enclave scan` over the STAGED content of every added, copied or modified file,
#              read with `git show :path`: what the commit will carry, so a fix left unstaged in
#              the working tree cannot hide a secret that is staged.
#   typecheck  the whole project (types cross files, so there is no per-file check).
#   lint       eslint on the staged JavaScript/TypeScript files.
#   test       `vitest related` on the staged source files: the tests that import them, seconds
#              instead of the minutes of the whole suite (which CI runs).
# typecheck, lint and test read the working tree, as the tools do.
set -euo pipefail

tools="$(cd "$(dirname "$0")/.." && pwd)"   # this checkout: bin/enclave.mjs, node_modules
cd "$(git rev-parse --show-toplevel)"
steps="${ENCLAVE_HOOK_STEPS:-scan typecheck lint test}"
for step in $steps; do
  case "$step" in scan | typecheck | lint | test) ;; *) echo "pre-commit: unknown step \"$step\" in ENCLAVE_HOOK_STEPS" >&2; exit 2 ;; esac
done

staged=()
while IFS= read -r -d '' file; do staged+=("$file"); done < <(git diff --cached --name-only --diff-filter=ACM -z)
code=()
for file in ${staged[@]+"${staged[@]}"}; do
  case "$file" in *.ts | *.tsx | *.mts | *.cts | *.js | *.mjs | *.cjs) code+=("$file") ;; esac
done

copy=""
trap '[ -z "$copy" ] || rm -rf "$copy"' EXIT
scan() {
  [ ${#staged[@]} -gt 0 ] || return 0
  copy="$(mktemp -d)"
  for file in "${staged[@]}"; do
    mkdir -p "$copy/$(dirname "$file")"
    git show ":$file" > "$copy/$file"
  done
  # Run from the copy so findings name the repository's paths.
  (cd "$copy" && node "$tools/bin/enclave.mjs" scan -- "${staged[@]}")
}

for step in $steps; do
  echo "pre-commit: $step" >&2
  case "$step" in
    scan) scan ;;
    typecheck) (cd "$tools" && npm run -s typecheck) ;;
    lint) [ ${#code[@]} -eq 0 ] || "$tools/node_modules/.bin/eslint" --no-warn-ignored -- "${code[@]}" ;;
    test) [ ${#code[@]} -eq 0 ] || "$tools/node_modules/.bin/vitest" related --run --passWithNoTests "${code[@]}" ;;
  esac
done
