#!/usr/bin/env bash
# Regenerates the hash-locked tool groups from their .in files with the
# managed uv (tools/uv.lock; `cargo xtask tools --group release` installs it):
#
#   bash tools/lock.sh             add what the .in files gained, keep every other pin
#   bash tools/lock.sh --upgrade   re-resolve everything to the newest versions
#
# All groups are resolved together first, so a package two groups share gets
# one version and the groups can share the tests' environment. Each group's
# lock is then its own slice of that resolution, with every file's hash.
# Commit the .in and .lock files together; the next xtask command sees the
# changed locks and reinstalls what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
uv=${XTASK_TOOLS_DIR:-target/xtask-tools}/uv/bin/uv
[[ -x $uv ]] || cargo xtask tools --group release >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
keep=()
if [[ ${1:-} != --upgrade ]]; then
  for group in release docs test; do keep+=(--constraint "tools/$group.lock"); done
fi
cat tools/release.in tools/docs.in tools/test.in >"$work/all.in"
"$uv" pip compile --quiet --no-config "${keep[@]}" --output-file "$work/versions.txt" "$work/all.in"
for group in release docs test; do
  "$uv" pip compile --quiet --no-config --generate-hashes --custom-compile-command "bash tools/lock.sh" \
    --no-annotate --constraint "$work/versions.txt" --output-file "tools/$group.lock" "tools/$group.in"
done
"$uv" pip compile --quiet --no-config --generate-hashes --custom-compile-command "bash tools/lock.sh" \
  ${1:+--upgrade} --output-file tools/uv.lock tools/uv.in
