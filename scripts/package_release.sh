#!/usr/bin/env bash
# Packs the release builds into the archives the GitHub Action's install step downloads
# (action/install.sh), byte for byte the same on every run over the same binaries.
#
#   scripts/package_release.sh BINS OUT
#
# BINS holds a directory for each release target, named after the target or `bin-<target>`
# (as the release workflow's artifacts arrive), with the keyhound binary in it (keyhound.exe
# for Windows). Into OUT go, for each target:
#   keyhound-<target>.tar.gz          the keyhound binary alone, at the archive's top
#   keyhound-<target>.tar.gz.sha256   its SHA-256 in sha256sum's format
# Windows gets keyhound-<target>.zip (keyhound.exe at its top) and keyhound-<target>.zip.sha256
# instead: install.sh installs no Windows build, so the name is free to be the one Windows
# users expect. Last, OUT/SHA256SUMS lists every archive's SHA-256 (sha256sum's format, which
# `sha256sum -c SHA256SUMS` checks).
#
# Every target in TARGETS below must be there, and nothing else. Archive members carry the
# time SOURCE_DATE_EPOCH (required: the release commit's time), owner 0 and mode 0755.
set -euo pipefail

# The release targets: the release workflow's build matrix, and the runner targets that
# install.sh maps each runner to (Windows aside). Change them together.
TARGETS=(
    x86_64-unknown-linux-musl
    aarch64-unknown-linux-musl
    x86_64-apple-darwin
    aarch64-apple-darwin
    x86_64-pc-windows-msvc
)

die() {
    echo "package_release.sh: $*" >&2
    exit 1
}

(($# == 2)) || die "usage: package_release.sh BINS OUT"
bins=$1
out=$2
[[ ${SOURCE_DATE_EPOCH:-} =~ ^[0-9]+$ ]] ||
    die "SOURCE_DATE_EPOCH must be the release commit's time in seconds (found '${SOURCE_DATE_EPOCH:-}')"
[[ -d $bins ]] || die "$bins is not a directory"
export LC_ALL=C TZ=UTC

# The directory of $1's build: BINS/<target> or BINS/bin-<target>.
build_dir() {
    local dir
    for dir in "$bins/$1" "$bins/bin-$1"; do
        if [[ -d $dir ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

# Nothing but the release targets: a stray build would be published unpackaged or not at all.
for dir in "$bins"/*; do
    [[ -e $dir ]] || continue
    name=$(basename "$dir")
    name=${name#bin-}
    known=false
    for target in "${TARGETS[@]}"; do
        [[ $name == "$target" ]] && known=true
    done
    $known || die "$dir is not the build of a release target (${TARGETS[*]})"
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out"

# tar.gz of one file, reproducibly: GNU tar with fixed order, owner and time; gzip without the
# name and time it would otherwise record.
pack_tar() {
    local binary=$1 archive=$2
    rm -rf "$stage/tar"
    mkdir "$stage/tar"
    cp "$binary" "$stage/tar/keyhound"
    tar --create --format=gnu --sort=name --owner=0 --group=0 --numeric-owner \
        --mode=0755 --mtime="@$SOURCE_DATE_EPOCH" --directory="$stage/tar" keyhound |
        gzip -9 --no-name >"$archive"
}

# zip of one file, reproducibly: Python's zipfile with a fixed time and mode.
pack_zip() {
    python3 - "$1" "$2" "$SOURCE_DATE_EPOCH" <<'PY'
import sys
import time
import zipfile

binary, archive, epoch = sys.argv[1], sys.argv[2], int(sys.argv[3])
# A zip entry's time is a DOS time: 1980 at the earliest, two-second steps.
stamp = time.gmtime(max(epoch, 315532800))[:6]
info = zipfile.ZipInfo("keyhound.exe", date_time=stamp)
info.external_attr = 0o100755 << 16
info.create_system = 3
info.compress_type = zipfile.ZIP_DEFLATED
with open(binary, "rb") as source, zipfile.ZipFile(archive, "w") as zip_file:
    zip_file.writestr(info, source.read(), compresslevel=9)
PY
}

archives=()
for target in "${TARGETS[@]}"; do
    dir=$(build_dir "$target") || die "no build for $target in $bins"
    case $target in
        *-windows-*)
            binary=$dir/keyhound.exe
            name=keyhound-$target.zip
            ;;
        *)
            binary=$dir/keyhound
            name=keyhound-$target.tar.gz
            ;;
    esac
    [[ -f $binary ]] || die "$binary is missing"
    if [[ $name == *.zip ]]; then
        pack_zip "$binary" "$out/$name"
    else
        pack_tar "$binary" "$out/$name"
    fi
    (cd "$out" && sha256sum "$name" >"$name.sha256")
    archives+=("$name")
    echo "packed $name: $(cut -d ' ' -f 1 "$out/$name.sha256")"
done

(cd "$out" && sha256sum "${archives[@]}" >SHA256SUMS)
echo "wrote $out/SHA256SUMS over ${#archives[@]} archives"
