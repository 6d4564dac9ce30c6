#!/usr/bin/env bash
# Start, stop or inspect a real single-node Slurm cluster on this machine, for tests and local sweeps.
#
#   .ci/slurm.sh start  STATE_DIR   start munged, MariaDB, slurmdbd, slurmctld and slurmd; wait until the
#                                   node is idle and `sacct` answers; write STATE_DIR/env; print it
#   .ci/slurm.sh stop   STATE_DIR   cancel the jobs, stop every daemon started from STATE_DIR (pid files)
#   .ci/slurm.sh status STATE_DIR   show which daemons run; exit 0 only if all of them do
#
# Clients only need `export SLURM_CONF=STATE_DIR/slurm.conf` (what `source STATE_DIR/env` does).
# `start` on a running cluster just prints that; on a half-started one it stops the rest and starts again.
#
# Needs root and the Debian 12 packages slurmctld slurmd slurm-client munge slurmdbd mariadb-server.
# Nothing in /etc is read or written: slurm.conf, slurmdbd.conf (mode 600), the munge key, the MariaDB
# data directory, state and spool directories, pid files and logs all live under STATE_DIR.
#   - munged runs as user munge with its own key and socket. When user munge cannot reach STATE_DIR (a
#     parent is private, as pytest's 0700 tmp dirs are) or the path is too long for a unix socket, its
#     files go to a private /tmp/hssim-munge.XXXXXX instead, named in STATE_DIR/munge.dir and removed
#     by `stop`.
#   - mariadbd runs as root with --skip-networking and a unix socket under STATE_DIR; slurmdbd reaches it
#     through that socket (MYSQL_UNIX_PORT). Accounting is there because submitit polls `sacct` to
#     notice jobs that died without writing a result.
#   - slurmctld, slurmd and slurmdbd run as root on free ports; they bind loopback only when the host
#     name resolves to a loopback address (else they listen on all addresses; clients use 127.0.0.1).
#   - One node, `localhost`, described by `slurmd -C` (RealMemory trimmed by 10%), in one partition
#     `debug`; select/cons_tres with CR_Core, so jobs share the node core by core.
#
# Every daemon is started with HSSIM_SLURM_STATE_DIR=STATE_DIR in its environment. `stop` cancels the
# jobs, then signals (TERM, KILL after HSSIM_SLURM_STOP_TIMEOUT) each process named by a pid file under
# STATE_DIR whose command name is the expected one and which carries that marker. A scan of /proc then
# catches what a failed start or a dead slurmd leaves behind: daemons carrying the marker, slurmstepd
# processes whose working directory is STATE_DIR/log (slurmd's), and job processes whose environment has
# SLURM_JOB_ID and this cluster's SLURM_CONF. Unrelated processes are never touched.
#
# Environment: HSSIM_SLURM_START_TIMEOUT (s per daemon, 60), HSSIM_SLURM_STOP_TIMEOUT (s before SIGKILL,
# 20), HSSIM_SLURM_CLUSTER (cluster name, hssim), HSSIM_SLURM_BIND_ANY=1 (listen on all addresses).
set -euo pipefail

CLUSTER_NAME=${HSSIM_SLURM_CLUSTER:-hssim}
CLUSTER_NAME=${CLUSTER_NAME,,} # Slurm stores cluster names in lower case
PARTITION=debug
NODE=localhost
START_TIMEOUT=${HSSIM_SLURM_START_TIMEOUT:-60}
STOP_TIMEOUT=${HSSIM_SLURM_STOP_TIMEOUT:-20}
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

usage() {
    echo "usage: $0 {start|stop|status} STATE_DIR" >&2
    exit 2
}

[[ $# -eq 2 ]] || usage
ACTION=$1
case $ACTION in start | stop | status) ;; *) usage ;; esac
STATE_ARG=$2

DAEMONS=(slurmd slurmctld slurmdbd mariadbd munged) # stop order; start order is the reverse

log() { echo "slurm.sh: $*" >&2; }

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
TIMINGS=""
PHASE_T0=0
phase_done() { # NAME: add "NAME Xs" (time since the previous phase) to TIMINGS
    TIMINGS+="${TIMINGS:+, }$1 $(since "$PHASE_T0")s"
    PHASE_T0=$(now)
}

# Directory of munged's key, socket, pid file, seed and log.
munge_dir() {
    if [[ -f $S/munge.dir ]]; then cat "$S/munge.dir"; else echo "$S/munge"; fi
}

# MariaDB's socket: under STATE_DIR unless that path is too long for a unix socket (107 bytes).
db_socket() {
    if ((${#DB} <= 90)); then echo "$DB/mysqld.sock"; else echo "$(munge_dir)/mysqld.sock"; fi
}

pidfile_of() {
    case $1 in
        munged) echo "$(munge_dir)/munged.pid" ;;
        mariadbd) echo "$DB_PIDFILE" ;;
        *) echo "$RUN/$1.pid" ;;
    esac
}

logfile_of() {
    case $1 in
        munged) echo "$(munge_dir)/munged.log" ;;
        mariadbd) echo "$DB/mysqld.err" ;;
        *) echo "$LOG/$1.log" ;;
    esac
}

proc_env() { # PID: the process's environment as "\nVAR=value\nVAR=value\n" in PROC_ENV (no fork, no pipe)
    local -a env=()
    PROC_ENV=""
    { mapfile -d '' -t env <"/proc/$1/environ"; } 2>/dev/null || return 1
    ((${#env[@]})) || return 1
    printf -v PROC_ENV '\n%s' "${env[@]}"
    PROC_ENV+=$'\n'
}

has_marker() { # PID: was the process started from this STATE_DIR? (false for a zombie: no environment)
    proc_env "$1" && [[ $PROC_ENV == *$'\n'"HSSIM_SLURM_STATE_DIR=$S"$'\n'* ]]
}

is_ours() { # PID NAME: alive, running program NAME, started from this STATE_DIR?
    local pid=$1 name=$2 comm
    [[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]] || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    [[ $comm == "${name:0:15}"* ]] || return 1
    has_marker "$pid"
}

pid_in_file() { # FILE: print the pid it holds (nothing while it is missing, empty or being written)
    local pid=""
    { read -r pid <"$1"; } 2>/dev/null || true
    pid=${pid//[^0-9]/}
    echo "$pid"
}

running_pid() { # NAME: print the pid of daemon NAME if it runs from this STATE_DIR
    local pid
    pid=$(pid_in_file "$(pidfile_of "$1")")
    is_ours "$pid" "$1" || return 1
    echo "$pid"
}

died() { # NAME: has daemon NAME written its pid file and exited since? (false while it starts up)
    local pid
    pid=$(pid_in_file "$(pidfile_of "$1")")
    [[ -n $pid ]] && ! is_ours "$pid" "$1"
}

stop_pid() { # PID NAME: TERM, wait up to STOP_TIMEOUT, then KILL
    local pid=$1 name=$2 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
        is_ours "$pid" "$name" || return 0
        sleep 0.1
    done
    log "$name (pid $pid) still running ${STOP_TIMEOUT}s after SIGTERM: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        is_ours "$pid" "$name" || return 0
        sleep 0.1
    done
    log "$name (pid $pid) survived SIGKILL"
}

# slurmstepd (which ignores SIGTERM) overwrites its environment with its process title, but keeps
# slurmd's working directory: the directory of slurmd's log.
is_stepd_of_cluster() { # PID
    local comm=""
    { read -r comm <"/proc/$1/comm"; } 2>/dev/null || return 1
    [[ $comm == slurmstepd* && $(readlink "/proc/$1/cwd" 2>/dev/null) == "$LOG" ]]
}

# A job's processes carry SLURM_JOB_ID and this cluster's SLURM_CONF.
is_job_process_of_cluster() { # PID
    proc_env "$1" && [[ $PROC_ENV == *$'\n'"SLURM_CONF=$CONF"$'\n'* && $PROC_ENV == *$'\n'SLURM_JOB_ID=* ]]
}

squeue_ids() { SLURM_CONF=$CONF timeout 10 squeue -h -o %i 2>/dev/null || true; }

do_stop() {
    local name pid procdir jobs md i
    # Cancel the jobs first, so that their steps end cleanly (best effort).
    if [[ -f $CONF ]] && running_pid slurmctld >/dev/null && running_pid slurmd >/dev/null; then
        jobs=$(squeue_ids)
        if [[ -n $jobs ]]; then
            # shellcheck disable=SC2086
            SLURM_CONF=$CONF timeout 10 scancel $jobs 2>/dev/null || true
            for ((i = 0; i < 100; i++)); do
                [[ -z $(squeue_ids) ]] && break
                sleep 0.1
            done
        fi
    fi
    for name in "${DAEMONS[@]}"; do
        if pid=$(running_pid "$name"); then
            stop_pid "$pid" "$name"
        fi
        rm -f "$(pidfile_of "$name")"
    done
    # Safety net, by a scan of /proc: a daemon that had not written its pid file yet (a failed start), and,
    # if slurmd died with jobs running, its job step daemons and the jobs' processes.
    local comm
    for procdir in /proc/[0-9]*; do
        pid=${procdir#/proc/}
        [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
        comm=""
        { read -r comm <"$procdir/comm"; } 2>/dev/null || continue
        if is_stepd_of_cluster "$pid" || is_job_process_of_cluster "$pid"; then
            log "killing leftover job process $pid ($comm)"
            kill -KILL "$pid" 2>/dev/null || true
        elif [[ " ${DAEMONS[*]} slurmscriptd " == *" $comm "* ]] && has_marker "$pid"; then
            log "stopping $comm (pid $pid), not in its pid file"
            stop_pid "$pid" "$comm"
        fi
    done
    if [[ -f $S/munge.dir ]]; then
        md=$(cat "$S/munge.dir")
        if [[ $md == /tmp/hssim-munge.* ]]; then rm -rf -- "$md"; fi
        rm -f "$S/munge.dir"
    fi
}

do_status() {
    local name pid rc=0
    for name in "${DAEMONS[@]}"; do
        if pid=$(running_pid "$name"); then
            echo "$name: running (pid $pid)"
        else
            echo "$name: not running"
            rc=1
        fi
    done
    if ((rc == 0)); then
        SLURM_CONF=$CONF timeout 10 sinfo -N -o '%N %P %T %c %m' || rc=1
    fi
    return $rc
}

# --- start -----------------------------------------------------------------------------------------

fail() { # MESSAGE [DAEMON...]: report with the daemons' log tails, stop what was started, exit 1
    local msg=$1 name f
    shift
    {
        echo "slurm.sh: ERROR: $msg (state: $S)"
        for name in "$@"; do
            f=$(logfile_of "$name")
            if [[ -f $f ]]; then
                echo "----- last lines of $f -----"
                tail -n 25 "$f"
            fi
        done
    } 2>&1 | tee -a "$LOG/start-failure.log" >&2
    echo "----- stopping what was started -----" >&2
    do_stop || true
    exit 1
}

wait_for() { # DESCRIPTION DAEMON COMMAND...: poll COMMAND until it succeeds, or fail
    local what=$1 daemon=$2 deadline dead=0
    shift 2
    deadline=$((SECONDS + START_TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        if died "$daemon"; then
            # Twice in a row, 0.1 s apart: a pid file can be caught while it is being rewritten.
            ((++dead < 2)) || fail "$daemon died while waiting for: $what" "$daemon"
        else
            dead=0
        fi
        ((SECONDS < deadline)) || fail "timed out after ${START_TIMEOUT}s waiting for: $what" "$daemon"
        sleep 0.1
    done
}

free_ports() { # N: N distinct random ports in 20000-29999 that no TCP socket uses
    local n=$1 port line f out=()
    local -A used=()
    for f in /proc/net/tcp /proc/net/tcp6; do
        [[ -r $f ]] || continue
        while read -r _ line _; do
            [[ $line == *:* ]] && used[$((16#${line##*:}))]=1
        done < <(tail -n +2 "$f")
    done
    while ((${#out[@]} < n)); do
        port=$((20000 + RANDOM % 10000))
        [[ -n ${used[$port]:-} ]] && continue
        used[$port]=1
        out+=("$port")
    done
    echo "${out[@]}"
}

check_prereqs() {
    local missing=() b
    [[ $(uname -s) == Linux ]] || { log "needs Linux"; exit 1; }
    [[ $(id -u) -eq 0 ]] || { log "needs root (the daemons run as root and as user munge)"; exit 1; }
    for b in munged munge unmunge mariadbd mariadb-install-db mariadb-admin slurmdbd slurmctld slurmd sacctmgr \
        sacct sinfo scontrol squeue sbatch srun scancel setpriv getent; do
        command -v "$b" >/dev/null || missing+=("$b")
    done
    if ((${#missing[@]})); then
        log "missing programs: ${missing[*]}"
        log "install them with: apt-get install -y slurmctld slurmd slurm-client munge slurmdbd mariadb-server"
        exit 1
    fi
    id munge >/dev/null 2>&1 || { log "no user 'munge' (is the munge package installed?)"; exit 1; }
}

as_munge() { setpriv --reuid=munge --regid=munge --clear-groups "$@"; }

start_munge() {
    local md=$S/munge
    if ! as_munge test -x "$S" 2>/dev/null || ((${#md} > 80)); then
        md=$(mktemp -d /tmp/hssim-munge.XXXXXX)
        echo "$md" >"$S/munge.dir"
    fi
    mkdir -p "$md"
    if [[ ! -s $md/munge.key ]]; then
        if command -v mungekey >/dev/null; then
            mungekey --create --keyfile="$md/munge.key" --force
        else
            dd if=/dev/urandom of="$md/munge.key" bs=1024 count=1 status=none
        fi
    fi
    chown -R munge:munge "$md"
    chmod 0755 "$md" # root clients connect to the socket; munged refuses group/other-writable dirs
    chmod 0600 "$md/munge.key"
    as_munge munged --socket="$md/munge.socket" --key-file="$md/munge.key" --pid-file="$md/munged.pid" \
        --log-file="$md/munged.log" --seed-file="$md/munged.seed" >"$LOG/munged.start.log" 2>&1 ||
        fail "munged did not start: $(tail -n 5 "$LOG/munged.start.log")" munged
    wait_for "munged answers" munged bash -c "munge -n -S '$md/munge.socket' | unmunge -S '$md/munge.socket'"
}

# A small footprint: with the default 96 MB redo log and 64 MB growth steps a state directory took ~180 MB.
MARIADB_SMALL=(--innodb-log-file-size=8M --innodb-autoextend-increment=4 --innodb-use-native-aio=0)

start_mariadb() {
    local sock
    sock=$(db_socket)
    # its own tmpdir: a MariaDB starting up deletes the #sql* temporary files it finds in
    # its tmpdir, and with the default /tmp that includes those of another instance
    # bootstrapping at the same moment (the calibration tests' server, a second cluster)
    mkdir -p "$DB/tmp"
    if [[ ! -d $DB/data/mysql ]]; then
        mariadb-install-db --no-defaults --user=root --datadir="$DB/data" --tmpdir="$DB/tmp" --auth-root-authentication-method=socket \
            --skip-test-db --skip-name-resolve "${MARIADB_SMALL[@]}" >"$DB/install.log" 2>&1 ||
            { tail -n 25 "$DB/install.log" >&2; fail "mariadb-install-db failed (log: $DB/install.log)"; }
    fi
    rm -f "$sock"
    # setsid: not in the caller's process group, so a Ctrl-C there does not hit it.
    setsid mariadbd --no-defaults --user=root --datadir="$DB/data" --tmpdir="$DB/tmp" --socket="$sock" --pid-file="$DB_PIDFILE" \
        --log-error="$DB/mysqld.err" --skip-networking --skip-name-resolve \
        --innodb-buffer-pool-size=128M --innodb-lock-wait-timeout=900 --performance-schema=OFF --skip-log-bin \
        "${MARIADB_SMALL[@]}" \
        </dev/null >>"$DB/mysqld.out" 2>&1 &
    wait_for "MariaDB answers on $sock" mariadbd mariadb-admin --no-defaults --socket="$sock" -uroot ping
}

write_configs() {
    local ctld_port slurmd_port dbd_port node_line hw mem msock addr comm
    read -r ctld_port slurmd_port dbd_port <<<"$(free_ports 3)"
    msock=$(munge_dir)/munge.socket
    # With NoInAddrAny/NoCtldInAddrAny the daemons (and srun) bind the address the host name resolves to,
    # whatever is configured. Use them only when that is a loopback address (127.0.0.1, or 127.0.1.1 on a
    # stock Debian) and configure that address everywhere; otherwise listen on all, talk over 127.0.0.1.
    addr=$(getent ahostsv4 "$(hostname)" 2>/dev/null | awk 'NR == 1 { print $1 }' || true)
    if [[ $addr == 127.* && ${HSSIM_SLURM_BIND_ANY:-0} != 1 ]]; then
        comm="CommunicationParameters=NoCtldInAddrAny,NoInAddrAny"
    else
        addr=127.0.0.1
        comm="# daemons listen on all addresses: '$(hostname)' does not resolve to a loopback address"
    fi
    # The node as slurmd detects it, renamed localhost, with RealMemory trimmed by 10%.
    hw=$(slurmd -C)
    hw=${hw%%$'\n'*}
    mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
    mem=$((${mem:-1000} * 9 / 10))
    node_line=$(sed -e "s/^NodeName=[^ ]*/NodeName=$NODE NodeAddr=$addr NodeHostname=$NODE/" \
        -e "s/RealMemory=[0-9]*/RealMemory=$mem/" <<<"$hw")
    : >"$S/plugstack.conf" # no SPANK plugins (not /etc/slurm/plugstack.conf)
    cat >"$CONF" <<EOF
# Generated by .ci/slurm.sh: a single-node test cluster; state, logs and pid files under $S
ClusterName=$CLUSTER_NAME
SlurmctldHost=$NODE($addr)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
$comm
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$msock
StateSaveLocation=$S/ctld
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$S/plugstack.conf
MailProg=/bin/true
MpiDefault=none
SwitchType=switch/none
# No cgroup delegation needed:
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=$addr
AccountingStoragePort=$dbd_port
# For slurmdbd connections, "Pass" names the munge socket:
AccountingStoragePass=$msock
SchedulerType=sched/backfill
# Start jobs at once (~2.5 s -> <1 s):
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# Reject impossible requests at submission instead of leaving them pending:
EnforcePartLimits=ALL
ReturnToService=2
InactiveLimit=0
KillWait=5
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=60
$node_line State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    (
        umask 077
        cat >"$DBDCONF" <<EOF
# Generated by .ci/slurm.sh
AuthType=auth/munge
AuthInfo=socket=$msock
DbdHost=localhost
DbdAddr=$addr
DbdPort=$dbd_port
${comm/NoCtldInAddrAny,/}
SlurmUser=root
DebugLevel=info
LogFile=$LOG/slurmdbd.log
PidFile=$RUN/slurmdbd.pid
StorageType=accounting_storage/mysql
# localhost: through the unix socket in MYSQL_UNIX_PORT
StorageHost=localhost
StorageUser=root
StorageLoc=slurm_acct_db
EOF
    )
    chmod 600 "$DBDCONF"
}

cluster_registered() {
    local clusters
    clusters=$(sacctmgr -n -P list cluster format=cluster 2>/dev/null) || return 1
    grep -qxF "$CLUSTER_NAME" <<<"$clusters"
}

node_idle() {
    [[ $(sinfo -h -N -n "$NODE" -o %T 2>/dev/null) == idle ]]
}

write_env() {
    echo "export SLURM_CONF=$CONF" >"$S/env"
    echo "export SLURM_CONF=$CONF"
}

do_start() {
    local t0
    check_prereqs
    if [[ -f $CONF ]] && do_status >/dev/null 2>&1; then
        log "already running from $S"
        write_env
        return 0
    fi
    do_stop # leftovers of an earlier, partial start
    t0=$(now)
    PHASE_T0=$t0
    mkdir -p "$LOG" "$RUN" "$S/ctld" "$S/spool"
    rm -f "$S/env"
    export SLURM_CONF=$CONF
    start_munge
    phase_done munged
    start_mariadb
    phase_done mariadb
    write_configs
    # slurmdbd reads slurmdbd.conf from the directory of $SLURM_CONF.
    MYSQL_UNIX_PORT=$(db_socket) slurmdbd >"$LOG/slurmdbd.start.log" 2>&1 ||
        fail "slurmdbd did not start: $(tail -n 5 "$LOG/slurmdbd.start.log")" slurmdbd mariadbd
    wait_for "slurmdbd answers (sacctmgr list cluster)" slurmdbd sacctmgr -n list cluster
    if ! cluster_registered; then
        sacctmgr -i add cluster "$CLUSTER_NAME" >/dev/null || fail "sacctmgr add cluster $CLUSTER_NAME failed" slurmdbd
    fi
    phase_done slurmdbd
    slurmctld -f "$CONF" >"$LOG/slurmctld.start.log" 2>&1 ||
        fail "slurmctld did not start: $(tail -n 5 "$LOG/slurmctld.start.log")" slurmctld
    wait_for "slurmctld answers (scontrol ping)" slurmctld bash -c 'scontrol ping | grep -q UP'
    phase_done slurmctld
    slurmd -f "$CONF" -N "$NODE" >"$LOG/slurmd.start.log" 2>&1 ||
        fail "slurmd did not start: $(tail -n 5 "$LOG/slurmd.start.log")" slurmd
    wait_for "node $NODE idle in sinfo" slurmd node_idle
    wait_for "sacct answers" slurmdbd sacct -n -X -a
    phase_done slurmd
    log "cluster '$CLUSTER_NAME' up in $(since "$t0")s ($TIMINGS); state, logs: $S"
    write_env
}

if [[ ! -d $STATE_ARG ]]; then
    case $ACTION in
        start) check_prereqs && mkdir -p "$STATE_ARG" ;;
        stop) exit 0 ;;
        status) echo "no cluster state in $STATE_ARG" && exit 1 ;;
    esac
fi
S=$(cd "$STATE_ARG" && pwd -P)
export HSSIM_SLURM_STATE_DIR="$S"
CONF=$S/slurm.conf
DBDCONF=$S/slurmdbd.conf
LOG=$S/log
RUN=$S/run
DB=$S/mysql
DB_PIDFILE=$DB/mysqld.pid

case $ACTION in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
esac
