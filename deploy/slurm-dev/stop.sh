#!/usr/bin/env bash
# deploy/slurm-dev/stop.sh [DIR] -- stop the cluster started by deploy/slurm-dev/start.sh DIR
# (DIR: $JOBMON_SLURM_DIR, else /tmp/jobmon-slurm).
# Cancels the cluster's jobs, then kills exactly the daemons whose PIDs are recorded
# in DIR/run: slurmd + slurmctld, then slurmdbd + mariadbd (if accounting was on),
# then munged (only if start.sh started it; JOBMON_SLURM_KEEP_MUNGE=1 leaves it
# running). Never kills anything by name. Removes the empty cgroup directories slurmd
# and start.sh created and the /etc/slurm/slurm.conf symlink if it points at DIR.
# DIR itself (logs, jobcomp.txt) is kept.
set -uo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
log() { echo "[jobmon-slurm stop] $*" >&2; }

[ "$(id -u)" = 0 ] || { log "ERROR: must run as root (the daemons run as root); try: sudo $0 $*"; exit 1; }

DIR="${1:-${JOBMON_SLURM_DIR:-/tmp/jobmon-slurm}}"
[ -d "$DIR" ] || { log "no such dir $DIR; nothing to stop"; exit 0; }
DIR="$(cd "$DIR" && pwd)"
RUN="$DIR/run"
export SLURM_CONF="$DIR/slurm.conf"

alive() {  # alive PIDFILE NAME -> pid in PIDFILE is running and its argv[0] is NAME
  local pid argv0=""
  [ -s "$1" ] || return 1
  pid="$(cat "$1")"
  case "$pid" in ''|*[!0-9]*) return 1 ;; esac
  [ -r "/proc/$pid/cmdline" ] || return 1
  IFS= read -r -d '' argv0 <"/proc/$pid/cmdline" || true
  [ "${argv0##*/}" = "$2" ]
}

# 1. cancel this cluster's jobs so their slurmstepd and job processes end cleanly
if alive "$RUN/slurmctld.pid" slurmctld && alive "$RUN/slurmd.pid" slurmd; then
  jobs="$(squeue -h -o '%A' 2>/dev/null | sort -u | tr '\n' ' ')"
  if [ -n "${jobs// /}" ]; then
    log "cancelling jobs: $jobs"
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null || true
    for _ in $(seq 1 50); do
      [ -z "$(squeue -h -t running,completing,pending,configuring -o '%A' 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
fi

# 2. TERM a group of daemons by PID, wait up to 15 s for all, then KILL leftovers
stop_group() {  # stop_group "PIDFILE:NAME" ...
  local item f name pid pids=() names=()
  for item in "$@"; do
    f="$RUN/${item%%:*}"; name="${item#*:}"
    if alive "$f" "$name"; then
      pid="$(cat "$f")"; kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid"); names+=("$name")
    fi
    rm -f "$f"
  done
  [ "${#pids[@]}" = 0 ] && return 0
  for _ in $(seq 1 150); do
    local left=0
    for pid in "${pids[@]}"; do [ -d "/proc/$pid" ] && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  local i
  for i in "${!pids[@]}"; do
    if [ -d "/proc/${pids[$i]}" ]; then
      log "${names[$i]} (${pids[$i]}) ignored TERM; KILL"; kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
    log "stopped ${names[$i]} (pid ${pids[$i]})"
  done
}
stop_group slurmd.pid:slurmd slurmctld.pid:slurmctld
stop_group slurmdbd.pid:slurmdbd mysqld.pid:mariadbd
if [ "${JOBMON_SLURM_KEEP_MUNGE:-0}" != 1 ]; then
  stop_group munged.pid:munged
fi

# 3. remove the (now empty) cgroup v1 directories slurmd created, if any
node="$(hostname -s)"
for c in /sys/fs/cgroup/*/slurm_"$node"; do
  [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
done
# and the idle CPU cgroup start.sh put slurmd (and so the jobs) in when oversubscribed
for c in /sys/fs/cgroup/cpu/jobmon-slurm-jobs /sys/fs/cgroup/jobmon-slurm-jobs; do
  [ -d "$c" ] && rmdir "$c" 2>/dev/null
done

# 4. drop the /etc/slurm/slurm.conf symlink if it points at this cluster
if [ -L /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" = "$DIR/slurm.conf" ]; then
  rm -f /etc/slurm/slurm.conf
fi
log "done"
exit 0
