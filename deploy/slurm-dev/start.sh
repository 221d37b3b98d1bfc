#!/usr/bin/env bash
# deploy/slurm-dev/start.sh [DIR] -- install (if needed), configure and start Jobmon's
# single-node Slurm cluster for development and CI, without systemd.  Verified on
# Debian 12 (bookworm), Slurm 22.05.8 + munge 0.5.15 (+ MariaDB 10.11 for accounting)
# from Debian's packages, as root, no systemd as PID 1.  See README.md next to it.
#
# Usage:  deploy/slurm-dev/start.sh [DIR]      (DIR: $JOBMON_SLURM_DIR, else /tmp/jobmon-slurm)
# Then:   source DIR/env.sh                    (exports SLURM_CONF=DIR/slurm.conf; clients
#                                               also work without it, see LINK_ETC)
# Stop:   deploy/slurm-dev/stop.sh DIR
#
# Partitions: debug (default, MaxTime=INFINITE), batch (MaxTime=INFINITE) and
# short (MaxTime=00:02:00, MaxMemPerNode=2048) for tests of queue limits / fallback
# queues.  EnforcePartLimits=ALL: a request above a partition's limits is rejected
# by sbatch at submit time.
#
# Env knobs (all optional):
#   JOBMON_SLURM_ACCOUNTING=0|1  1: also run MariaDB + slurmdbd so that `sacct` works
#                          (adds ~10 s of apt install once, ~2 s of start-up). Default 0:
#                          no sacct; use `squeue -t all` / `scontrol show job` (finished
#                          jobs stay visible for MinJobAge=600 s) or DIR/log/jobcomp.txt.
#   JOBMON_SLURM_CGROUP=auto|1|0  cgroup v1 plugins (proctrack/task/jobacct_gather cgroup):
#                          kernel-enforced --mem and the OUT_OF_MEMORY job state.
#                          auto (default): on when the memory, freezer and cpuacct v1
#                          hierarchies are mounted and writable. 0: /proc-based process
#                          tracking; --mem then enforced by 1 s RSS polling, and an
#                          over-limit job ends FAILED, not OUT_OF_MEMORY.
#   JOBMON_SLURM_CPUS=N    CPUs to advertise (default: the real count). More than the
#                          real count oversubscribes (SlurmdParameters=config_overrides):
#                          more short jobs at once, faster drain of big batches; slurmd,
#                          and so every job, then runs as SCHED_IDLE (see below).
#   JOBMON_SLURM_MEM_MB=N  RealMemory to advertise (default: 90% of real, capped at 64000)
#   JOBMON_SLURM_LINK_ETC=0  don't point /etc/slurm/slurm.conf at DIR/slurm.conf
#                          (default 1, only if that path is absent or a symlink)
#   JOBMON_SLURM_TIMEOUT=S seconds to wait for the node to become idle (default 60)
#   JOBMON_SLURM_DB_PORT=P MariaDB TCP port on 127.0.0.1 (default 13306)
#
# Idempotent: if the daemons recorded in DIR/run are alive it only waits for the node
# (to change settings, stop first). A fresh start wipes DIR/state, DIR/spool and
# DIR/mysql: job ids restart at 1, no jobs or accounting survive a restart.
# Ports: slurmctld 6817, slurmd 6818, slurmdbd 6819 -- one cluster per machine at a time.
# Keep DIR short and without spaces: it goes into slurm.conf unquoted, and unix socket
# paths under it (DIR/spool/<node>/<node>_<job>.<step>, DIR/run/mysqld.sock) must stay
# under 108 bytes.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

log() { echo "[jobmon-slurm start] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# A CPU cgroup whose tasks get only otherwise idle CPU (cpu.idle, Linux 5.15+; else the
# smallest weight); prints its path. cgroup v1 (a "cpu" hierarchy) or v2.
IDLE_CGROUP_NAME=jobmon-slurm-jobs
make_idle_cpu_group() {
  local group
  if [ -d /sys/fs/cgroup/cpu ] && [ -f /sys/fs/cgroup/cpu/cpu.shares ]; then
    group=/sys/fs/cgroup/cpu/$IDLE_CGROUP_NAME
    mkdir -p "$group" 2>/dev/null || return 1
    { echo 1 > "$group/cpu.idle"; } 2>/dev/null || echo 2 > "$group/cpu.shares" || return 1
  elif grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    group=/sys/fs/cgroup/$IDLE_CGROUP_NAME
    mkdir -p "$group" 2>/dev/null || return 1
    { echo 1 > "$group/cpu.idle"; } 2>/dev/null || echo 1 > "$group/cpu.weight" || return 1
  else
    return 1
  fi
  echo "$group"
}

[ "$(id -u)" = 0 ] || die "must run as root (apt-get, munged and slurmd need it); try: sudo $0 $*"

DIR="${1:-${JOBMON_SLURM_DIR:-/tmp/jobmon-slurm}}"
case "$DIR" in *[[:space:]]*) die "DIR must not contain spaces: '$DIR'" ;; esac
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
CONF="$DIR/slurm.conf"
RUN="$DIR/run"
LINK_ETC="${JOBMON_SLURM_LINK_ETC:-1}"
WAIT_S="${JOBMON_SLURM_TIMEOUT:-60}"
ACCT="${JOBMON_SLURM_ACCOUNTING:-0}"
DB_PORT="${JOBMON_SLURM_DB_PORT:-13306}"

[ "${#DIR}" -le 60 ] || log "warning: DIR is ${#DIR} chars long; unix socket paths under it may exceed 108 bytes"

# ---------------------------------------------------------------- 1. install
PKGS="slurmctld slurmd slurm-client munge"
BINS="slurmctld slurmd sbatch squeue scancel sinfo scontrol munged munge unmunge"
if [ "$ACCT" = 1 ]; then
  PKGS="$PKGS slurmdbd mariadb-server"
  BINS="$BINS slurmdbd sacct sacctmgr mariadbd mariadb-install-db mariadb-admin mariadb"
fi
need_install=0
for b in $BINS; do command -v "$b" >/dev/null 2>&1 || need_install=1; done
if [ "$need_install" = 1 ]; then
  command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 \
    || die "Slurm/munge binaries are missing and apt-get is not available: this script installs Debian's packages ($PKGS); on other systems install Slurm 22.05+ and munge yourself, then rerun"
  log "installing $PKGS from apt (log: $DIR/apt.log)"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  if ! apt-get install -y -q --no-install-recommends $PKGS >"$DIR/apt.log" 2>&1; then
    apt-get update -q >>"$DIR/apt.log" 2>&1
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $PKGS >>"$DIR/apt.log" 2>&1 \
      || { tail -20 "$DIR/apt.log" >&2; die "apt-get install failed (see $DIR/apt.log)"; }
  fi
fi

is_our_pid() {  # is_our_pid PIDFILE NAME -> 0 if the pid in PIDFILE is alive and its argv[0] is NAME
  local f="$1" name="$2" pid argv0=""
  [ -s "$f" ] || return 1
  pid="$(cat "$f")"
  case "$pid" in ''|*[!0-9]*) return 1 ;; esac
  [ -r "/proc/$pid/cmdline" ] || return 1
  IFS= read -r -d '' argv0 <"/proc/$pid/cmdline" || true
  [ "${argv0##*/}" = "$name" ]
}
kill_ours() {  # kill_ours PIDFILE NAME -- TERM, wait up to 10 s, KILL
  local pid
  is_our_pid "$1" "$2" || { rm -f "$1"; return 0; }
  pid="$(cat "$1")"; kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$1"
}

mkdir -p "$RUN" "$DIR/log"
export SLURM_CONF="$CONF"

# ---------------------------------------------------------------- 2. munge
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
if munge_ok; then
  [ -s "$RUN/munged.pid" ] || log "munged already answering on the default socket; reusing it"
else
  if [ ! -s /etc/munge/munge.key ]; then
    log "creating /etc/munge/munge.key"
    install -d -o munge -g munge -m 0700 /etc/munge
    mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
      || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    chown munge:munge /etc/munge/munge.key; chmod 0600 /etc/munge/munge.key
  fi
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/log/munge
  install -d -o munge -g munge -m 0711 /var/lib/munge
  rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged   # forks into the background
  for _ in $(seq 1 50); do munge_ok && break; sleep 0.1; done
  munge_ok || die "munged did not come up (see /var/log/munge/munged.log)"
  cp /run/munge/munged.pid "$RUN/munged.pid"   # marks it as ours: stop script kills it
  log "started munged pid $(cat "$RUN/munged.pid")"
fi

# ---------------------------------------------------------------- 3. config
daemons_up() {
  is_our_pid "$RUN/slurmctld.pid" slurmctld && is_our_pid "$RUN/slurmd.pid" slurmd || return 1
  if [ "$ACCT" = 1 ]; then
    is_our_pid "$RUN/slurmdbd.pid" slurmdbd && is_our_pid "$RUN/mysqld.pid" mariadbd || return 1
  fi
}

if daemons_up; then
  log "daemons of $DIR already running"
else
  # stop half-started leftovers of this DIR (found by pidfile only)
  kill_ours "$RUN/slurmd.pid" slurmd
  kill_ours "$RUN/slurmctld.pid" slurmctld
  kill_ours "$RUN/slurmdbd.pid" slurmdbd
  kill_ours "$RUN/mysqld.pid" mariadbd
  rm -rf "$DIR/state" "$DIR/spool" "$DIR/mysql"
  # another cluster (other DIR) on our ports would answer our clients and fake success
  port_listening() {
    local hex; hex="$(printf '%04X' "$1")"
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null \
      | awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }'
  }
  ports="6817 6818"; [ "$ACCT" = 1 ] && ports="$ports 6819 $DB_PORT"
  for p in $ports; do
    if port_listening "$p"; then die "TCP port $p is already in use (another Slurm cluster running? stop it first)"; fi
  done
  NODE="$(hostname -s)"
  HW="$(slurmd -C | head -1)"
  hw() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$HW"; }
  REAL_CPUS="$(hw CPUs)"; REAL_MEM="$(hw RealMemory)"
  CPUS="${JOBMON_SLURM_CPUS:-$REAL_CPUS}"
  MEM="${JOBMON_SLURM_MEM_MB:-$(( REAL_MEM * 9 / 10 ))}"
  [ "$MEM" -gt 64000 ] && [ -z "${JOBMON_SLURM_MEM_MB:-}" ] && MEM=64000
  if [ "$CPUS" = "$REAL_CPUS" ]; then
    TOPO="Boards=$(hw Boards) SocketsPerBoard=$(hw SocketsPerBoard) CoresPerSocket=$(hw CoresPerSocket) ThreadsPerCore=$(hw ThreadsPerCore)"
  else
    TOPO="Boards=1 SocketsPerBoard=1 CoresPerSocket=$CPUS ThreadsPerCore=1"
  fi
  mkdir -p "$DIR/state" "$DIR/spool/$NODE"

  cgroup_v1_usable() {
    [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ] || return 1
    local c probe
    for c in memory freezer cpuacct; do
      [ "$(stat -fc %T "/sys/fs/cgroup/$c" 2>/dev/null)" = cgroupfs ] || return 1
    done
    probe="/sys/fs/cgroup/memory/slurm_probe_$$"
    mkdir "$probe" 2>/dev/null && rmdir "$probe"
  }
  CG="${JOBMON_SLURM_CGROUP:-auto}"
  if [ "$CG" = auto ]; then if cgroup_v1_usable; then CG=1; else CG=0; fi; fi
  if [ "$CG" = 1 ]; then
    PROCTRACK="# cgroup v1: kernel-enforced --mem, OUT_OF_MEMORY state, freezer-based tracking
ProctrackType=proctrack/cgroup
TaskPlugin=task/cgroup
JobAcctGatherType=jobacct_gather/cgroup
JobAcctGatherFrequency=1"
    cat >"$DIR/cgroup.conf" <<EOF
CgroupPlugin=cgroup/v1
CgroupMountpoint=/sys/fs/cgroup
CgroupAutomount=no
ConstrainCores=no
ConstrainDevices=no
ConstrainRAMSpace=yes
ConstrainSwapSpace=no
EOF
  else
    rm -f "$DIR/cgroup.conf"
    PROCTRACK="# no cgroups: track processes via /proc, no task binding; RSS polled every
# second and a step above --mem is killed (state FAILED, not OUT_OF_MEMORY)
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=1
JobAcctGatherParams=OverMemoryKill"
  fi

  if [ "$ACCT" = 1 ]; then
    ACCOUNTING="# accounting via slurmdbd + MariaDB: sacct works
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=6819"
  else
    ACCOUNTING="# no slurmdbd: sacct is unavailable ('Slurm accounting storage is disabled')
AccountingStorageType=accounting_storage/none"
  fi
  log "cgroup plugins: $( [ "$CG" = 1 ] && echo 'on (cgroup/v1)' || echo off ), accounting: $( [ "$ACCT" = 1 ] && echo slurmdbd || echo none ), CPUs=$CPUS RealMemory=$MEM"

  cat >"$CONF" <<EOF
# generated by deploy/slurm-dev/start.sh -- Jobmon single-node dev/CI cluster
ClusterName=localci
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
$PROCTRACK
MpiDefault=none
SwitchType=switch/none
# several 1-cpu jobs at once; memory is a consumable resource (default 256M per CPU)
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
SlurmdParameters=config_overrides
# reject jobs that can never run at submit time (else they pend forever)
EnforcePartLimits=ALL
# fast scheduling for tests (defaults: batch_sched_delay=3, bf_interval=30)
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,bf_interval=1,default_queue_depth=1000
$ACCOUNTING
# finished jobs stay in squeue -t all / scontrol show job for MinJobAge seconds,
# and each is appended to the jobcomp file
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
MinJobAge=600
MaxJobCount=200000
MaxArraySize=100001
ReturnToService=2
InactiveLimit=0
KillWait=2
Waittime=0
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS $TOPO RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
PartitionName=batch Nodes=ALL Default=NO MaxTime=INFINITE State=UP
# small queue for tests of queue limits / fallback queues (EnforcePartLimits=ALL:
# a request above these limits is rejected by sbatch)
PartitionName=short Nodes=ALL Default=NO MaxTime=00:02:00 MaxMemPerNode=2048 State=UP
EOF

  # ------------------------------------------------------------ 4. start daemons
  if [ "$ACCT" = 1 ]; then
    log "initialising MariaDB in $DIR/mysql"
    # --no-defaults everywhere: a system /etc/mysql/my.cnf (user=mysql, datadir, port
    # of a distro MariaDB already running on the machine) must not leak into ours
    mariadb-install-db --no-defaults --user=root --datadir="$DIR/mysql" --auth-root-authentication-method=socket \
      --skip-test-db >"$DIR/log/mariadb-install-db.log" 2>&1 \
      || { tail -20 "$DIR/log/mariadb-install-db.log" >&2; die "mariadb-install-db failed"; }
    # mariadbd stays in the foreground: background it with stdio closed (so a CI
    # step waiting for EOF on its output pipe does not hang)
    setsid mariadbd --no-defaults --user=root --datadir="$DIR/mysql" --socket="$RUN/mysqld.sock" \
      --pid-file="$RUN/mysqld.pid" --bind-address=127.0.0.1 --port="$DB_PORT" \
      --log-error="$DIR/log/mariadb.err" --skip-log-bin --innodb-buffer-pool-size=512M \
      --innodb-lock-wait-timeout=900 </dev/null >/dev/null 2>&1 &
    for _ in $(seq 1 150); do mariadb-admin --no-defaults --socket="$RUN/mysqld.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
    mariadb-admin --no-defaults --socket="$RUN/mysqld.sock" ping >/dev/null 2>&1 || die "MariaDB did not start (see $DIR/log/mariadb.err)"
    mariadb --no-defaults --socket="$RUN/mysqld.sock" -e "
      CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
      CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm';
      GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
      GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"
    cat >"$DIR/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=root
DebugLevel=info
LogFile=$DIR/log/slurmdbd.log
PidFile=$RUN/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
EOF
    chmod 600 "$DIR/slurmdbd.conf"      # slurmdbd refuses a world-readable one
    slurmdbd || die "slurmdbd failed to start (see $DIR/log/slurmdbd.log)"   # finds DIR/slurmdbd.conf via SLURM_CONF
    for _ in $(seq 1 100); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.1; done
    sacctmgr -i add cluster localci >/dev/null 2>&1 || true
    sacctmgr -n list cluster format=cluster 2>/dev/null | grep -q localci \
      || { tail -20 "$DIR/log/slurmdbd.log" >&2; die "slurmdbd not answering"; }
  else
    rm -f "$DIR/slurmdbd.conf"
  fi

  slurmctld -f "$CONF" || die "slurmctld failed to start (see $DIR/log/slurmctld.log)"
  for _ in $(seq 1 100); do scontrol ping >/dev/null 2>&1 && break; sleep 0.1; done
  scontrol ping >/dev/null 2>&1 || { tail -20 "$DIR/log/slurmctld.log" >&2; die "slurmctld not answering (port 6817 taken by another cluster?)"; }
  # Oversubscribed, the jobs share this machine's few cores with the controller, the Jobmon
  # server and its distributor, which on a real cluster have their own. So the jobs take
  # only the CPU that the rest leaves, as if they ran on other nodes:
  #  - slurmd, and every job after it (PropagatePrioProcess=0), runs as SCHED_IDLE (nice 10
  #    was not enough: 64 jobs at nice 10 outweigh one process at nice 0 by 7 to 1);
  #  - and in one CPU cgroup marked idle. Each job is a session of its own, and with the
  #    kernel's autogroups (sched_autogroup_enabled) each session competes as one process
  #    of nice 0 whatever its class: 64 jobs had 64 shares against PostgreSQL's one. Tasks
  #    in a CPU cgroup other than the root are not autogrouped. (Slurm's cgroup plugins
  #    here use cpuset, memory, freezer and cpuacct, never the cpu controller.)
  if [ -n "${JOBMON_SLURM_CPUS:-}" ] && [ "$JOBMON_SLURM_CPUS" -gt "$(nproc)" ]; then
    idle_group="$(make_idle_cpu_group)" || idle_group=""
    if [ -n "$idle_group" ]; then
      log "jobs run in the idle CPU cgroup $idle_group"
      sh -c 'echo $$ > "$1/cgroup.procs" && exec chrt --idle 0 slurmd -f "$2"' sh \
        "$idle_group" "$CONF" || die "slurmd failed to start (see $DIR/log/slurmd.log)"
    else
      log "warning: no idle CPU cgroup; jobs may take CPU from the server on this machine"
      chrt --idle 0 slurmd -f "$CONF" || die "slurmd failed to start (see $DIR/log/slurmd.log)"
    fi
  else
    slurmd -f "$CONF" || die "slurmd failed to start (see $DIR/log/slurmd.log)"
  fi
fi

if [ "$LINK_ETC" = 1 ]; then
  mkdir -p /etc/slurm
  if [ -L /etc/slurm/slurm.conf ] || [ ! -e /etc/slurm/slurm.conf ]; then
    ln -sfn "$CONF" /etc/slurm/slurm.conf
  else
    log "note: /etc/slurm/slurm.conf is a real file; left alone -- export SLURM_CONF=$CONF"
  fi
fi

# ---------------------------------------------------------------- 5. wait for idle
state=""
for i in $(seq 1 $(( WAIT_S * 5 ))); do
  state="$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)"
  case "$state" in
    idle|mixed|allocated) break ;;
    down*|drain*) [ $(( i % 10 )) = 0 ] && scontrol update NodeName="$(hostname -s)" State=RESUME 2>/dev/null || true ;;
  esac
  sleep 0.2
done
case "$state" in
  idle|mixed|allocated) ;;
  *) tail -20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
     die "node not ready after ${WAIT_S}s (state '$state')" ;;
esac

echo "export SLURM_CONF=$CONF" >"$DIR/env.sh"
log "cluster up: node $(hostname -s) is $state"
pids="slurmctld $(cat "$RUN/slurmctld.pid"), slurmd $(cat "$RUN/slurmd.pid")"
for d in slurmdbd mysqld munged; do
  if [ -s "$RUN/$d.pid" ]; then pids="$pids, $d $(cat "$RUN/$d.pid")"; fi
done
cat <<EOF
SLURM_CONF=$CONF   (or: source $DIR/env.sh)
pids: $pids
logs: $DIR/log/   finished-job records: $DIR/log/jobcomp.txt
stop with: $(dirname "$(readlink -f "$0")")/stop.sh $DIR
EOF
