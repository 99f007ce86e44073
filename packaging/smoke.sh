#!/usr/bin/env bash
# Smoke test of the frozen app built by `make bundle`: packaging/smoke.sh [BUNDLE_FOLDER]  (default dist/segview)
# Runs the bundle's `segview --version`, `segview models list`, a predict with the demo model and the window
# (offscreen; it quits once the model process has shown the first prediction), from an empty folder, with a
# bare environment: no Python, no checkout, no virtual environment on any path. Prints the times taken.
set -euo pipefail

APP="$(cd "${1:-dist/segview}" && pwd)"
EXE="$APP/segview"
[ -x "$EXE" ] || { echo "smoke: no $EXE: run make bundle first" >&2; exit 2; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# Only the bundle: env -i drops PYTHONPATH, VIRTUAL_ENV and the rest; PATH holds no Python of ours.
bare() {
    env -i HOME="$WORK/home" PATH=/usr/bin:/bin LANG=C.UTF-8 SEGVIEW_DATA_DIR="$WORK/data" \
        SEGVIEW_CACHE_DIR="$WORK/cache" XDG_CONFIG_HOME="$WORK/config" QT_QPA_PLATFORM=offscreen "$@"
}
timed() {  # timed LABEL COMMAND...: runs it, prints its wall time
    local start ms
    start=$(date +%s%N)
    "${@:2}"
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    printf 'smoke: %-36s %d.%02d s\n' "$1" $((ms / 1000)) $((ms % 1000 / 10)) >&2
}

version=$(bare "$EXE" --version)
echo "smoke: $version"
[[ "$version" == segview\ * ]]
timed "segview --version" bare "$EXE" --version >/dev/null
timed "segview models list" bare "$EXE" models list > models.txt
grep -E '^demo_panoptic +panoptic +yes ' models.txt

mkdir photos
cp "$(ls "$APP"/_internal/segview/_data/resources/demo/*.png | head -1)" photos/
timed "segview predict (1 image, CPU)" bare "$EXE" predict photos --model demo_panoptic --device cpu \
    --out results --format coco,coco-panoptic > predict.txt
grep -q 'Predicted 1 image(s), skipped 0' predict.txt
[ -s results/panoptic.json ] && [ "$(ls results/panoptic | wc -l)" -eq 1 ]

timed "window: demo open, first prediction" bare env SEGVIEW_SMOKE_QUIT=1 "$EXE" --device cpu > window.txt
grep 'segview smoke:' window.txt
grep -q 'prediction shown for' window.txt
echo "smoke: bundle $(du -sh "$APP" | cut -f1) in $APP: all checks passed"
