#!/usr/bin/env bash
# Drive the real terminal app in tmux at 80x24 through a short walk, a kill -9 and a resume.
#
#   scripts/tmux_walk.sh            # uses .venv/bin/inspect-engine
#   INSPECT_ENGINE=/path/to/inspect-engine scripts/tmux_walk.sh
#
# Steps: start `inspect-engine tui --demo` on a fresh demo ledger (it resumes the demo's open
# walk); answer two items with the keys an inspector uses; wait for "✓ 已保存"; kill -9 the app;
# start it again and check it stands on the same item with the same number answered; answer and
# kill at once (the answer is saved or not, the app starts either way); open the help (F1); go
# back to the site and the site list; quit with Ctrl+Q and check the exit status.
# Every check reads the screen with `tmux capture-pane`. On failure the screen is printed.
# Exit status: 0 passed, 1 failed, 77 skipped (no tmux).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
APP="${INSPECT_ENGINE:-$ROOT/.venv/bin/inspect-engine}"
command -v tmux >/dev/null 2>&1 || { echo "skip: tmux is not installed" >&2; exit 77; }
[ -x "$APP" ] || { echo "fail: $APP is not executable (run make first)" >&2; exit 1; }

WORK="$(mktemp -d)"
SOCK="ie-walk-$$"
S="walk"
TMUX_CMD=(tmux -L "$SOCK" -f /dev/null)

cleanup() {
  "${TMUX_CMD[@]}" kill-server >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

screen() { "${TMUX_CMD[@]}" capture-pane -p -t "$S"; }
press() { "${TMUX_CMD[@]}" send-keys -t "$S" "$@"; }
pane() { "${TMUX_CMD[@]}" display-message -p -t "$S" "$1"; }

fail() {
  echo "FAIL: $*" >&2
  echo "----- screen -----" >&2
  screen >&2 || true
  echo "------------------" >&2
  exit 1
}

# wait_for TEXT [SECONDS]: poll the screen until it shows TEXT.
wait_for() {
  local text="$1" limit="${2:-20}" i=0
  while (( i < limit * 10 )); do
    if screen | grep -qF -- "$text"; then return 0; fi
    sleep 0.1
    i=$((i + 1))
  done
  fail "waited ${limit}s for: $text"
}

# start_app: (re)start the app in the pane, under a shell that writes its exit status to
# $WORK/exit (tmux itself may report a dead pane before it has reaped the process).
start_app() {
  rm -f "$WORK/exit"
  "${TMUX_CMD[@]}" respawn-pane -k -t "$S" \
    "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color \
     '$APP' tui --demo --data-dir '$WORK/data'; echo \$? > '$WORK/exit'"
}

# app_pid: the app's process (the child of the pane's shell), read from /proc.
app_pid() {
  local shell stat
  shell="$(pane '#{pane_pid}')"
  for stat in /proc/[0-9]*/stat; do
    # field 4 of /proc/PID/stat is the parent pid ("comm" in field 2 has no spaces here)
    if [ "$(cut -d' ' -f4 "$stat" 2>/dev/null)" = "$shell" ]; then
      basename "$(dirname "$stat")"
      return 0
    fi
  done
  fail "no app process under the pane's shell $shell"
}

# wait_exit: wait for the app to end; prints its exit status.
wait_exit() {
  for _ in $(seq 1 100); do
    if [ -s "$WORK/exit" ]; then cat "$WORK/exit"; return 0; fi
    sleep 0.1
  done
  fail "the app did not end"
}

# position: the walk's "第 i/n 项 · 已答 k" line.
position() { screen | grep -oE '第 [0-9-]+/[0-9]+ 项 · 已答 [0-9]+' | head -n 1; }
# answered: the "已答 N" count on the walk screen.
answered() { screen | sed -n 's/.*已答 \([0-9][0-9]*\).*/\1/p' | head -n 1; }
# item_id: the id line of the item shown (e.g. BS.LAND.01).
item_id() { screen | grep -oE '^ +[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+)+ *$' | head -n 1 | tr -d ' '; }

# answer_one: answer the item shown, whatever its kind, with the keys for that kind.
answer_one() {
  local before now shown
  before="$(answered)"
  shown="$(screen)"
  if grep -qF '[Y] 是' <<<"$shown"; then
    press y
  elif grep -qF '按数字键或上下键' <<<"$shown"; then
    press 1
  elif grep -qF '数字键或空格勾选' <<<"$shown"; then
    press 1 Enter
  elif grep -qF '输入数值' <<<"$shown"; then
    local low
    low="$(sed -n 's/.*范围 \([0-9.]*\)–.*/\1/p' <<<"$shown" | head -n 1)"
    press "${low:-0}" Enter
  elif grep -qF '输入文字' <<<"$shown"; then
    press o k Enter
  else
    fail "no answer widget on the walk screen"
  fi
  for _ in $(seq 1 100); do
    now="$(answered)"
    if [ -n "$now" ] && [ "$now" -gt "$before" ]; then return 0; fi
    sleep 0.1
  done
  fail "the answer was not taken (已答 stayed at $before)"
}

"${TMUX_CMD[@]}" new-session -d -s "$S" -x 80 -y 24 "sleep 600"
"${TMUX_CMD[@]}" set-option -t "$S" remain-on-exit on >/dev/null

echo "1. first start on a fresh demo ledger (generated now)"
start_app
wait_for "演示数据" 90
wait_for "已答" 30   # the demo leaves one walk open: the app resumes it at once

echo "2. answer two items"
answer_one
answer_one
wait_for "✓ 已保存" 10
ITEM="$(item_id)"
COUNT="$(answered)"
POS="$(position)"
[ -n "$ITEM" ] && [ -n "$POS" ] || fail "no item id or position on the walk screen"
echo "   standing on $ITEM: $POS"

kill_app() {
  kill -9 "$(app_pid)"
  [ "$(wait_exit)" = "137" ] || fail "the app was not killed"
}

echo "3. kill -9 the app"
kill_app

echo "4. start again: same inspection, same item, every saved answer"
start_app
wait_for "$POS" 30
[ "$(item_id)" = "$ITEM" ] || fail "resumed at $(item_id), not $ITEM"

echo "5. answer and kill at once: the answer is either saved or not, never half"
press y 1
kill_app
start_app
wait_for "已答" 30
AFTER="$(answered)"
[ "$AFTER" -ge "$COUNT" ] && [ "$AFTER" -le $((COUNT + 1)) ] || fail "已答 $AFTER after $COUNT"
echo "   $AFTER answered after the kill"

echo "6. help, back to the site and the list, quit"
press F1
wait_for "按键说明"
press Escape
wait_for "已答 $AFTER"
press Escape
wait_for "历次排查"
press Escape
wait_for "排查对象"
press C-q
STATUS="$(wait_exit)"
[ "$STATUS" = "0" ] || fail "the app exited with status $STATUS"
if screen | grep -qF "Traceback"; then fail "a traceback reached the terminal"; fi
echo "ok: walked, killed twice, resumed where it stood, quit cleanly"
