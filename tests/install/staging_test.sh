#!/usr/bin/env bash
# Installs the build into a staging root (DESTDIR, prefix /usr), then uses only what was
# installed: the files are where a user looks, `man mxtls-probe` finds its page (MANPATH),
# the bash completion offers commands, options and scenario names, and two programs build
# against the installed package: the consumer in tests/install/consumer with find_package
# and with pkg-config, and examples/scan_two_targets.cpp with find_package, which then runs.
# Usage: staging_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$build/install-test
rm -rf "$work"
mkdir -p "$work"
stage=$work/stage
fail() { echo "FAIL: $*" >&2; exit 1; }

DESTDIR=$stage cmake --install "$build" --prefix /usr >"$work/install.log"
usr=$stage/usr
libdir=$(cd "$usr" && dirname "$(find lib -name libmxtls_core.a | head -n1)")
for f in bin/mxtls share/man/man1/mxtls.1.gz share/man/man1/mxtls-probe.1.gz share/man/man1/mxtls-lint.1.gz \
         share/man/man1/mxtls-serve.1.gz share/man/man1/mxtls-scan.1.gz share/man/man1/mxtls-demo.1.gz \
         share/bash-completion/completions/mxtls share/zsh/vendor-completions/_mxtls \
         include/mxtls/mxtls.hpp include/mxtls/version.hpp include/mxtls/all_headers.hpp include/mxtls/scan.hpp \
         "$libdir/libmxtls_core.a" "$libdir/libmxtls_scan.a" "$libdir/libmxtls_logs.a" "$libdir/libmxtls_tlsrpt.a" "$libdir/pkgconfig/mxtls.pc" \
         "$libdir/cmake/mxtls/mxtlsConfig.cmake" "$libdir/cmake/mxtls/mxtlsTargets.cmake"; do
  [ -e "$usr/$f" ] || fail "not installed: /usr/$f"
done
# Every public header of the source tree is installed (model/ included).
(cd "$src/include" && find mxtls -name '*.hpp') | while read -r h; do
  [ -e "$usr/include/$h" ] || fail "header not installed: $h"
done
echo "installed files: ok"

"$usr/bin/mxtls" --version | grep -q '^mxtls ' || fail "mxtls --version"

# man finds the installed pages.
command -v man >/dev/null || fail "man is not installed (scripts/install-deps installs man-db)"
page=$(MANPATH=$usr/share/man man -w mxtls-probe) || fail "man -w mxtls-probe"
[[ $page == "$usr/share/man/man1/mxtls-probe.1.gz" ]] || fail "man -w mxtls-probe gave $page"
MANPATH=$usr/share/man MANWIDTH=80 man mxtls-probe 2>/dev/null | grep -q 'diagnose one destination' || fail "man mxtls-probe"
echo "man mxtls-probe: ok ($page)"

# The bash completion, driven as bash drives it.
complete_words() {  # the words offered for the command line "$@" (the last word is completed)
  PATH=$usr/bin:$PATH bash -c '
    source "$0"
    COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    _mxtls; printf "%s\n" "${COMPREPLY[@]}"' "$usr/share/bash-completion/completions/mxtls" "$@"
}
complete_words mxtls pr | grep -qx probe || fail "completion of 'mxtls pr'"
complete_words mxtls serve --li | grep -qx -- --listen || fail "completion of 'mxtls serve --li'"
complete_words mxtls serve --scenario se | grep -qx seed || fail "completion of 'mxtls serve --scenario se'"
complete_words mxtls lint --format "" | grep -qx json || fail "completion of 'mxtls lint --format '"
complete_words mxtls help sc | grep -qx scan || fail "completion of 'mxtls help sc'"
echo "bash completion: ok"

# The zsh completion, its function run with zsh's words/CURRENT and the completion builtins
# it calls (compadd, _files) standing in to print what they are given. Its words are taken
# whole before grep sees them: grep -q ends early, and with pipefail the writer's SIGPIPE
# would fail the line.
command -v zsh >/dev/null || fail "zsh is not installed (scripts/install-deps installs it)"
zsh_words() {  # the words offered for the command line "$@" (the last word is completed)
  PATH=$usr/bin:$PATH zsh -f -c '
    compadd() {
      local arr=0 a
      for a in "$@"; do
        case $a in
          -a) arr=1 ;;
          --) ;;
          *) if ((arr)); then print -rl -- ${(P)a}; else print -r -- $a; fi ;;
        esac
      done
    }
    _files() { print -r -- "<files>"; }
    words=("$@"); CURRENT=${#words}; PREFIX=${words[CURRENT]}
    source "$0"' "$usr/share/zsh/vendor-completions/_mxtls" "$@"
}
grep -qx probe <<<"$(zsh_words mxtls pr)" || fail "zsh completion of 'mxtls pr'"
grep -qx -- --listen <<<"$(zsh_words mxtls serve --li)" || fail "zsh completion of 'mxtls serve --li'"
grep -qx seed <<<"$(zsh_words mxtls serve --scenario se)" || fail "zsh completion of 'mxtls serve --scenario se'"
grep -qx -- --color <<<"$(zsh_words mxtls probe --col)" || fail "zsh completion of 'mxtls probe --col'"
grep -qx scan <<<"$(zsh_words mxtls help sc)" || fail "zsh completion of 'mxtls help sc'"
echo "zsh completion: ok"

# find_package(mxtls) from the staging root only (no build tree on any path).
example=$src/examples/scan_two_targets.cpp
cmake -S "$src/tests/install/consumer" -B "$work/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$usr" \
  -DMXTLS_EXAMPLE="$example" >"$work/consumer.log" || { cat "$work/consumer.log"; fail "configure the consumer"; }
cmake --build "$work/consumer" >>"$work/consumer.log" 2>&1 || { cat "$work/consumer.log"; fail "build the consumer"; }
if grep -Eq "$src/include|$build/generated|$build/lib|$build/CMakeFiles" "$work/consumer/build.ninja"; then
  fail "the consumer's build refers to the source or build tree"
fi
"$work/consumer/consumer" || fail "the consumer (find_package) ran badly"
echo "find_package(mxtls): ok"
if [ -e "$example" ]; then
  out=$("$work/consumer/scan_two_targets") || true
  echo "$out"
  grep -Eq '^2 probed, exit code 1$' <<<"$out" || fail "examples/scan_two_targets built against the installed package"
  echo "examples/scan_two_targets against the installed package: ok"
fi

# pkg-config, from the staging root (the .pc file finds its prefix from where it lies).
export PKG_CONFIG_PATH=$usr/$libdir/pkgconfig
flags=$(pkg-config --cflags --libs mxtls) || fail "pkg-config mxtls"
g++ -o "$work/consumer-pc" "$src/tests/install/consumer/main.cpp" $flags || fail "build with pkg-config ($flags)"
"$work/consumer-pc" || fail "the consumer (pkg-config) ran badly"
echo "pkg-config mxtls: ok"
