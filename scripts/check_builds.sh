#!/usr/bin/env bash
# Checks two promises of keyhound's build, on fresh clones of the committed HEAD:
#   - reproducible: two release builds of the same commit, in two directories, give binaries
#     identical byte for byte (paths remapped as the release workflow remaps them, no
#     timestamps in the binary);
#   - a no-op build compiles nothing, in a checkout whose `.git` has no `packed-refs` (cargo
#     reruns a build script for ever while a path it watches is missing).
#
# Usage: scripts/check_builds.sh [PROFILE]     PROFILE defaults to release (about 9 minutes a
# build on two cores); `dev` checks the same in a minute or two.
# Prints the two digests and the no-op build's time; exits 1 when a promise is broken.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
profile=${1:-release}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "check_builds.sh: FAIL: $*" >&2; exit 1; }

cargo_home=${CARGO_HOME:-$HOME/.cargo}
# build DIR: a build of the clone at DIR, its paths remapped so that where it was built leaves
# no trace in the binary.
# (The C libraries keyhound bundles are remapped too.)
build() {
    (cd "$1" && remapped cargo build --locked --quiet --profile "$profile")
}
remapped() {
    CARGO_INCREMENTAL=0 \
        RUSTFLAGS="--remap-path-prefix=$PWD=/keyhound --remap-path-prefix=$cargo_home=/cargo" \
        CFLAGS="-ffile-prefix-map=$PWD=/keyhound -ffile-prefix-map=$cargo_home=/cargo" \
        "$@"
}
binary() {
    local dir=$profile
    [[ $profile == dev ]] && dir=debug
    echo "$1/target/$dir/keyhound"
}

for clone in a b; do
    git clone --quiet --no-local "$root" "$work/$clone"
done
# Clone a's refs live only as loose files, as in a repository nobody has packed.
rm -f "$work/a/.git/packed-refs"
[[ -f $work/a/.git/$(sed 's/^ref: //' "$work/a/.git/HEAD") ]] || fail "clone a's branch has no loose ref"

started=$(date +%s)
build "$work/a"
build "$work/b"
echo "two $profile builds: $(($(date +%s) - started)) s"
digest_a=$(sha256sum "$(binary "$work/a")" | cut -d ' ' -f 1)
digest_b=$(sha256sum "$(binary "$work/b")" | cut -d ' ' -f 1)
echo "a: $digest_a"
echo "b: $digest_b"
[[ $digest_a == "$digest_b" ]] || fail "the two builds differ"

# A second build of clone a, nothing changed: nothing may compile, no build script may run.
started=$(date +%s%N)
log=$(cd "$work/a" && remapped cargo build --locked --profile "$profile" -v 2>&1)
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
if grep -E '^ *(Compiling|Running) ' <<<"$log"; then
    fail "a build with nothing changed did work"
fi
echo "no-op $profile build without packed-refs: $elapsed_ms ms"
echo "build checks: 2 passed, 0 failed"
