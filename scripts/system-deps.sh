#!/usr/bin/env bash
# Installs the Debian packages the workbench uses when they are missing:
#   chromium (browser tests), fluidsynth + fluid-soundfont-gm (audio), mma (the benchmark's rival),
#   g++, make and juce-modules-source (JUCE 7's modules in /usr/share/juce/modules: juce/).
# Needs root (or sudo) and apt-get; elsewhere it says what to install and carries on.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v fluidsynth >/dev/null 2>&1 || need+=(fluidsynth libfluidsynth3)
[ -e /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || need+=(fluid-soundfont-gm)
command -v mma >/dev/null 2>&1 || need+=(mma)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
[ -e /usr/share/juce/modules/juce_core/juce_core.h ] || need+=(juce-modules-source)
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: please install: ${need[*]}" >&2; exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        echo "system-deps: not root; please install: ${need[*]}" >&2; exit 0; fi
fi
echo "system-deps: installing ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
