#!/usr/bin/env bash
# Builds build/lambda/bootstrap.zip for AWS Lambda's provided.al2023 runtime (docs/deploy-aws.md):
#   bootstrap            the `uptick` binary (static Swift runtime; runs `uptick lambda` under this name)
#   lib/libsqlite3.so.0  the system SQLite (Lambda puts /var/task/lib on LD_LIBRARY_PATH)
# and checks that nothing in it needs more than glibc 2.34 or GCC 11's libstdc++ (AL2023), nor any Swift
# shared library. `--check-only` checks an existing build/lambda without building.
set -euo pipefail
cd "$(dirname "$0")/.."

out=build/lambda
max_glibc=2.34
max_glibcxx=3.4.29

if [ "${1:-}" != "--check-only" ]; then
    swift build -c release --static-swift-stdlib --product uptick
    rm -rf "$out" && mkdir -p "$out/lib"
    cp .build/release/uptick "$out/bootstrap"
    strip "$out/bootstrap"
    cp -L "$(ldconfig -p | awk '/libsqlite3\.so\.0 .*x86-64|libsqlite3\.so\.0 .*AArch64/ {print $NF; exit}')" "$out/lib/libsqlite3.so.0"
fi

# The highest version of a symbol family that a file asks for (empty when none).
highest() { { objdump -T "$1" | grep -oE "$2_[0-9.]+" || true; } | sed "s/$2_//" | sort -uV | tail -1; }
newer() { [ -n "$1" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1)" != "$2" ]; }

status=0
for file in "$out/bootstrap" "$out"/lib/*; do
    glibc=$(highest "$file" GLIBC)
    glibcxx=$(highest "$file" GLIBCXX)
    echo "$file: needs GLIBC ${glibc:-none}, GLIBCXX ${glibcxx:-none}"
    if newer "$glibc" "$max_glibc"; then
        echo "  ERROR: needs GLIBC_$glibc (provided.al2023 has $max_glibc):" >&2
        objdump -T "$file" | grep -E "GLIBC_2\.(3[5-9]|[4-9][0-9])" | sed 's/^/    /' >&2 || true
        status=1
    fi
    if newer "$glibcxx" "$max_glibcxx"; then
        echo "  ERROR: needs GLIBCXX_$glibcxx (AL2023's libstdc++ has $max_glibcxx)" >&2
        status=1
    fi
done
if objdump -p "$out/bootstrap" | grep NEEDED | grep -q "libswift\|libFoundation\|libdispatch\|libBlocksRuntime"; then
    echo "ERROR: bootstrap needs a Swift shared library:" >&2
    objdump -p "$out/bootstrap" | grep NEEDED >&2
    status=1
fi
# The shims in Sources/CGlibcCompat forward to older versions of the same symbols: exported, they would
# answer that very lookup and call themselves forever.
exported=$(nm -D --defined-only "$out/bootstrap" | awk '{print $3}' | grep -xE 'hypotf?|_dl_find_object|_ZNSt18condition_variable4wait.*' || true)
if [ -n "$exported" ]; then
    echo "ERROR: bootstrap exports glibc compatibility shims (they must be hidden): $(echo $exported)" >&2
    status=1
fi
echo "bootstrap needs: $(objdump -p "$out/bootstrap" | awk '/NEEDED/ {printf "%s ", $2}')"
[ $status -eq 0 ] || exit $status

if [ "${1:-}" != "--check-only" ]; then
    (cd "$out" && rm -f bootstrap.zip && python3 -c "
import zipfile, os
with zipfile.ZipFile('bootstrap.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    for path in ['bootstrap', 'lib/libsqlite3.so.0']:
        info = zipfile.ZipInfo(path)
        info.external_attr = (0o755 << 16)
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, 'rb') as f:
            z.writestr(info, f.read())
")
    ls -l "$out/bootstrap" "$out/bootstrap.zip"
fi
