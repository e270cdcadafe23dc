#!/usr/bin/env bash
# The install step of keyhound's GitHub Action: puts a keyhound binary on the job's PATH.
#
# The release build for the runner is downloaded when the release has one:
#   <base URL>/<version>/keyhound-<target>.tar.gz, with the keyhound binary at the archive's top,
# and checked against <base URL>/<version>/keyhound-<target>.tar.gz.sha256 (sha256sum's format)
# when that is published. Only a 404 (a version that is not a release, or a release without a
# build for this runner) falls back to building keyhound with cargo: any other failure, such as
# a network error or a checksum that does not match, is an error, never a silent half-hour build.
#
# Environment (action.yml sets the KEYHOUND_* variables):
#   KEYHOUND_VERSION            the release tag to install (input `version`); empty: the action's
#                               own ref, built from the action's own files when not released
#   KEYHOUND_ACTION_REPOSITORY  owner/name of the action (github.action_repository)
#   KEYHOUND_ACTION_REF         the ref the workflow uses the action at (github.action_ref)
#   KEYHOUND_RELEASE_BASE_URL   where releases are downloaded from; default
#                               https://github.com/<owner/name>/releases/download
#   GITHUB_ACTION_PATH          the action's own files: keyhound's source at the action's ref
#   GITHUB_PATH, RUNNER_TEMP, RUNNER_OS, RUNNER_ARCH  as the runner sets them (RUNNER_OS and
#                               RUNNER_ARCH default to what uname says)
set -euo pipefail

REPOSITORY=${KEYHOUND_ACTION_REPOSITORY:-}
VERSION=${KEYHOUND_VERSION:-${KEYHOUND_ACTION_REF:-}}
RELEASES=${KEYHOUND_RELEASE_BASE_URL:-${REPOSITORY:+https://github.com/$REPOSITORY/releases/download}}

die() {
    echo "::error title=keyhound install::$1"
    exit 1
}

# The Rust target of the release build for this runner; fails when releases have none.
runner_target() {
    local os=${RUNNER_OS:-$(uname -s)} arch=${RUNNER_ARCH:-$(uname -m)}
    case $os/$arch in
        Linux/X64 | Linux/x86_64 | Linux/amd64) echo x86_64-unknown-linux-musl ;;
        Linux/ARM64 | Linux/aarch64 | Linux/arm64) echo aarch64-unknown-linux-musl ;;
        macOS/X64 | Darwin/x86_64) echo x86_64-apple-darwin ;;
        macOS/ARM64 | Darwin/arm64) echo aarch64-apple-darwin ;;
        *) return 1 ;;
    esac
}

# Downloads URL $1 to file $2 and prints the HTTP status; fails only when there was no answer.
http_get() {
    curl --silent --show-error --location --retry 3 --output "$2" --write-out '%{http_code}' "$1"
}

sha256_of() {
    if command -v sha256sum >/dev/null; then
        sha256sum "$1" | cut -d ' ' -f 1
    else
        shasum -a 256 "$1" | cut -d ' ' -f 1
    fi
}

# Installs the release build of $VERSION for target $1 into $root/bin and sets released=true,
# or leaves released=false when the release has no such build.
install_release() {
    local name="keyhound-$1.tar.gz" status
    local url="$RELEASES/$VERSION/$name" archive="$root/$name"
    status=$(http_get "$url" "$archive") || die "cannot download $url"
    case $status in
        200) ;;
        404)
            echo "keyhound: no release build at $url"
            return 0
            ;;
        *) die "downloading $url failed with HTTP status $status" ;;
    esac
    status=$(http_get "$url.sha256" "$archive.sha256") || die "cannot download $url.sha256"
    case $status in
        200)
            local expected actual
            expected=$(cut -d ' ' -f 1 <"$archive.sha256" | head -n 1 | tr '[:upper:]' '[:lower:]')
            actual=$(sha256_of "$archive")
            [[ $expected == "$actual" ]] ||
                die "$name does not match its published checksum (SHA-256 $actual, expected $expected)"
            echo "keyhound: $name matches its published SHA-256"
            ;;
        404) echo "keyhound: the release publishes no $name.sha256: the download is not checked" ;;
        *) die "downloading $url.sha256 failed with HTTP status $status" ;;
    esac
    mkdir -p "$root/unpacked" "$root/bin"
    tar -xzf "$archive" -C "$root/unpacked" || die "cannot unpack $name"
    [[ -f $root/unpacked/keyhound ]] || die "$name has no keyhound at its top"
    mv "$root/unpacked/keyhound" "$root/bin/keyhound"
    chmod +x "$root/bin/keyhound"
    released=true
    echo "keyhound: installed the $VERSION release build for $1"
}

# Builds keyhound with cargo into $root/bin: the release tag asked for, from the action's
# repository, or else the action's own files (keyhound's source at the ref the workflow named).
install_with_cargo() {
    command -v cargo >/dev/null ||
        die "there is no keyhound release build to download, and no cargo to build one: \
set up Rust before this action"
    local from
    if [[ -n ${KEYHOUND_VERSION:-} ]]; then
        [[ -n $REPOSITORY ]] ||
            die "version $KEYHOUND_VERSION was asked for, but the action's repository is unknown"
        local pick=--tag
        [[ $KEYHOUND_VERSION =~ ^[0-9a-f]{7,40}$ ]] && pick=--rev
        from=(--git "https://github.com/$REPOSITORY" "$pick" "$KEYHOUND_VERSION" keyhound)
    else
        [[ -n ${GITHUB_ACTION_PATH:-} ]] || die "the action's own files (GITHUB_ACTION_PATH) are unknown"
        from=(--path "$GITHUB_ACTION_PATH")
    fi
    echo "keyhound: building keyhound with cargo install ${from[*]}"
    cargo install --locked --root "$root" "${from[@]}"
}

main() {
    root=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/keyhound-install.XXXXXX")
    released=false
    local target
    if ! target=$(runner_target); then
        echo "keyhound: releases have no build for this runner" \
            "(${RUNNER_OS:-$(uname -s)} ${RUNNER_ARCH:-$(uname -m)})"
    elif [[ -n $RELEASES && -n $VERSION ]]; then
        install_release "$target"
    fi
    $released || install_with_cargo
    "$root/bin/keyhound" --version || die "the installed keyhound does not run"
    echo "$root/bin" >>"${GITHUB_PATH:?GITHUB_PATH names the file of directories to put on PATH}"
}

main "$@"
