#!/usr/bin/env bash
# Builds the Debian package (`cpack -G DEB`) and tries it as an operator would: checks its control
# fields and its file list, installs it, compiles and runs a program against the installed
# headers and libraries (pkg-config, and CMake's find_package), runs `cogent info`, and runs
# /usr/bin/python3 with tests/shim/python/threads_queue_socket.py under `cogent run` (both
# backends), which must print what it prints natively, with its threads on one OS thread.
#
#   bash scripts/package_test.sh [--build-dir DIR] [--dpkg-install] [-- CMAKE_ARGS...]
#
# By default the package is unpacked into a temporary root (`dpkg -x`) and used from there: the
# launcher finds the preload library relative to itself, the .pc file is relocatable, and the
# CMake package files are relative too, so nothing on the system changes. --dpkg-install installs
# it for real instead (`dpkg -i`, as root, refused when a cogent package or any of its files is
# already there) and purges it at the end, checking that none of its files is left behind.
# The build is Release with tests, benchmarks and samples off, installed under /usr (Debian's
# multiarch library directory); CMAKE_ARGS are added to the configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

build="build-package"
dpkg_install=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build=${2:?}; shift 2 ;;
    --dpkg-install) dpkg_install=1; shift ;;
    --) shift; break ;;
    *) sed -n '8p' "$0" | sed 's/^# \{0,1\}/usage: /' >&2; exit 2 ;;
  esac
done

bash scripts/setup.sh
# dpkg-shlibdeps computes the package's Depends.
command -v dpkg-shlibdeps >/dev/null ||
  { echo "package_test: dpkg-shlibdeps is missing: apt-get install dpkg-dev" >&2; exit 2; }

work=$(mktemp -d /tmp/package_test.XXXXXX)
installed=0
cleanup() {
  if [[ $installed -eq 1 ]]; then dpkg --purge cogent >/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
step() { echo "== $*"; }

# ---- build the package ----
step "building the package in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCOGENT_BUILD_TESTS=OFF \
  -DCOGENT_BUILD_BENCH=OFF -DCOGENT_BUILD_SAMPLES=OFF -DCMAKE_INSTALL_PREFIX=/usr "$@" >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
arch=$(dpkg --print-architecture)
deb=$build/cogent_${version}_${arch}.deb
rm -f "$deb"
(cd "$build" && cpack -G DEB >/dev/null)
[[ -f $deb ]] || { echo "package_test: cpack made no $deb" >&2; ls "$build"/*.deb >&2; exit 1; }
echo "$deb"
dpkg-deb -I "$deb" | sed 's/^/  /'

# ---- control fields ----
step "control fields"
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == cogent ]] || fail "Package is '$(field Package)'"
[[ $(field Version) == "$version" ]] || fail "Version is '$(field Version)', expected $version"
[[ $(field Architecture) == "$arch" ]] || fail "Architecture is '$(field Architecture)'"
[[ $(field Maintainer) == "cogent developers" ]] || fail "Maintainer is '$(field Maintainer)'"
[[ -n $(field Description) ]] || fail "no Description"
depends=$(field Depends)
for lib in libc6 libstdc++6 libgcc-s1 liburing2 libev4; do
  [[ ",$depends" =~ ,\ ?"$lib"([ ,]|$) ]] || fail "Depends ($depends) lacks $lib"
done

# ---- file list ----
step "file list"
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$work/files"
preload_path=$(grep '/libcogent_preload\.so$' "$work/files" || true)
libdir=${preload_path%/libcogent_preload.so}
[[ -n $libdir ]] || { fail "no libcogent_preload.so in the package"; libdir=/usr/lib; }
for f in /usr/bin/cogent "$libdir/libcogent_preload.so" "$libdir/libcogent.so" \
  "$libdir/libcogent.so.$version" "$libdir/libcogent.a" "$libdir/pkgconfig/cogent.pc" \
  "$libdir/cmake/cogent/cogentConfig.cmake" "$libdir/cmake/cogent/cogentConfigVersion.cmake" \
  "$libdir/cmake/cogent/cogentTargets.cmake" /usr/include/cogent/cogent.hpp \
  /usr/include/cogent/net/stream.hpp; do
  grep -qx -- "$f" "$work/files" || fail "the package lacks $f"
done
if grep -v '^/usr/' "$work/files" | grep -qv '^/$'; then
  fail "files outside /usr: $(grep -v '^/usr/' "$work/files" | grep -v '^/$' | head -3 | tr '\n' ' ')"
fi

# ---- install ----
if [[ $dpkg_install -eq 1 ]]; then
  step "dpkg -i"
  [[ $(id -u) -eq 0 ]] || { echo "package_test: --dpkg-install needs root" >&2; exit 2; }
  if dpkg-query -W -f='${Status}' cogent 2>/dev/null | grep -q installed; then
    echo "package_test: a cogent package is installed already; not touching it" >&2
    exit 2
  fi
  while read -r f; do
    if [[ -f $f || -L $f ]]; then
      echo "package_test: $f exists already; not installing over it" >&2
      exit 2
    fi
  done <"$work/files"
  installed=1
  dpkg -i "$deb"
  root=""
else
  step "dpkg -x into a temporary root"
  root=$work/root
  dpkg -x "$deb" "$root"
fi
prefix=$root/usr
cogent=$prefix/bin/cogent

# ---- the launcher ----
step "cogent info"
if "$cogent" info >"$work/info" 2>&1; then
  sed 's/^/  /' "$work/info"
  grep -qxF "preload library: $root$libdir/libcogent_preload.so" "$work/info" ||
    fail "cogent info does not name the installed $root$libdir/libcogent_preload.so"
else
  fail "cogent info failed"
  sed 's/^/  | /' "$work/info"
fi

# ---- building against it ----
cat >"$work/hello.cpp" <<'EOF'
#include <chrono>
#include <cstdio>
#include <vector>

#include <cogent/cogent.hpp>

int main() {
  using namespace std::chrono_literals;
  auto slow = cogent::spawn([](int x) { cogent::sleep(20ms); return x * 2; }, 21);
  auto fast = cogent::spawn([](int x) { cogent::sleep(10ms); return x + 1; }, 0);
  cogent::joinall(std::vector{slow, fast});
  std::printf("%d %d\n", slow.get(), fast.get());
}
EOF
step "a program built with pkg-config against the shared library"
pc_flags=$(PKG_CONFIG_PATH=$root$libdir/pkgconfig pkg-config --cflags --libs cogent)
echo "  pkg-config --cflags --libs cogent: $pc_flags"
# shellcheck disable=SC2086  # pkg-config's flags are words
if g++ -o "$work/hello" "$work/hello.cpp" $pc_flags; then
  out=$(LD_LIBRARY_PATH=$root$libdir "$work/hello" 2>&1) || true
  [[ $out == "42 1" ]] || fail "the pkg-config program printed '$out', expected '42 1'"
else
  fail "compiling against the installed headers with pkg-config's flags"
fi

step "a program built with CMake's find_package against the static library"
mkdir "$work/consumer"
cp "$work/hello.cpp" "$work/consumer/"
cat >"$work/consumer/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.22)
project(consumer CXX)
find_package(cogent REQUIRED)
add_executable(hello hello.cpp)
target_link_libraries(hello PRIVATE cogent::cogent_static)
EOF
if cmake -S "$work/consumer" -B "$work/consumer/build" -DCMAKE_PREFIX_PATH="$prefix" >"$work/cmake.log" 2>&1 &&
  cmake --build "$work/consumer/build" >>"$work/cmake.log" 2>&1; then
  out=$("$work/consumer/build/hello" 2>&1) || true
  [[ $out == "42 1" ]] || fail "the find_package program printed '$out', expected '42 1'"
else
  fail "building against the installed CMake package"
  tail -n 20 "$work/cmake.log" | sed 's/^/  | /'
fi

# ---- an unmodified third-party program under the shim ----
script=$src/tests/shim/python/threads_queue_socket.py
step "cogent run -- /usr/bin/python3 $script"
timeout -k 5 60 /usr/bin/python3 "$script" >"$work/native.out" 2>"$work/native.err" &&
  native_rc=0 || native_rc=$?
[[ $native_rc -eq 0 ]] || { fail "python3 natively: exit $native_rc"; sed 's/^/  | /' "$work/native.err"; }
for backend in default epoll; do
  options=()
  [[ $backend == epoll ]] && options=(--backend epoll)
  COGENT_TEST_THREADS=$work/$backend.threads timeout -k 5 60 "$cogent" run "${options[@]}" -- \
    /usr/bin/python3 "$script" >"$work/$backend.out" 2>"$work/$backend.err" && rc=0 || rc=$?
  what="cogent run ${options[*]:+${options[*]} }-- /usr/bin/python3 threads_queue_socket.py"
  threads=$(cat "$work/$backend.threads" 2>/dev/null || echo none)
  if [[ $rc -eq 124 ]]; then
    fail "$what: hung, stopped after 60 s"
  elif [[ $rc -ne $native_rc ]]; then
    fail "$what: exit $rc, natively $native_rc"
  elif ! cmp -s "$work/native.out" "$work/$backend.out"; then
    fail "$what: stdout differs from the native run"
    diff -u "$work/native.out" "$work/$backend.out" | head -20 | sed 's/^/  | /'
  elif [[ $threads != 1 ]]; then
    # The script counts the threads that run its code (not the runtime's "cogent-pool").
    fail "$what: $threads OS threads while its threads lived, expected 1"
  else
    echo "  ok: $what"
    continue
  fi
  tail -n 15 "$work/$backend.err" | sed 's/^/  | /'
done

# ---- uninstall ----
if [[ $installed -eq 1 ]]; then
  step "dpkg --purge cogent"
  dpkg --purge cogent
  installed=0
  while read -r f; do
    if [[ -f $f || -L $f ]]; then fail "$f is left behind after dpkg --purge"; fi
  done <"$work/files"
  if dpkg-query -W -f='${Status}' cogent 2>/dev/null | grep -q installed; then
    fail "dpkg still lists cogent after the purge"
  fi
fi

if [[ $failures -ne 0 ]]; then
  echo "package_test: $failures failure(s)"
  exit 1
fi
echo "package_test: $deb builds, installs and runs"
