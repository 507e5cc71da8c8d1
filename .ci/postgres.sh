# A throwaway PostgreSQL server for the tests, sourced by .ci/run (the only place that starts one).
#
#   source .ci/postgres.sh
#   trap stop_postgres EXIT
#   start_postgres        # exports MUSTER_TEST_POSTGRES_URL
#
# The server lives in a temporary folder with its own port and socket, so it never touches a
# PostgreSQL that the machine already runs, and stop_postgres leaves nothing behind.

POSTGRES_DIR=""
POSTGRES_BIN=""

# The server binaries: pg_ctl on the PATH (through any symlink, so that initdb and createdb come
# from the same install), else the newest Debian-style install, which keeps them off the PATH.
postgres_bin_dir() {
    local pg_ctl
    if pg_ctl="$(command -v pg_ctl)"; then
        dirname "$(readlink -f "$pg_ctl")"
    else
        find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1
    fi
}

# initdb refuses to run as root, so as root the server runs as the `postgres` user.
as_postgres() {
    if ((EUID == 0)); then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# A port nothing listens on, so that concurrent runs and a local server on 5432 never collide.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_postgres() {
    local port
    POSTGRES_BIN="$(postgres_bin_dir)"
    if [[ ! -x "$POSTGRES_BIN/initdb" ]]; then
        echo "error: no PostgreSQL server binaries (no pg_ctl on PATH, none in /usr/lib/postgresql)" >&2
        return 1
    fi
    if ((EUID == 0)) && ! id postgres >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
    fi
    # Under /tmp rather than $TMPDIR: the postgres user must be able to reach it.
    POSTGRES_DIR="$(mktemp -d /tmp/muster-postgres.XXXXXX)"
    if ((EUID == 0)); then
        chown postgres: "$POSTGRES_DIR"
    fi
    port="$(free_port)"

    # Trust authentication: the server only listens on 127.0.0.1 and a private socket folder.
    as_postgres "$POSTGRES_BIN/initdb" --pgdata="$POSTGRES_DIR/data" --username=postgres \
        --auth=trust --encoding=UTF8 --no-locale >"$POSTGRES_DIR/initdb.log"
    # -F turns fsync off: the data is thrown away, so durability only costs time.
    if ! as_postgres "$POSTGRES_BIN/pg_ctl" start --pgdata="$POSTGRES_DIR/data" --wait \
        --log="$POSTGRES_DIR/server.log" \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $POSTGRES_DIR -F" >/dev/null; then
        cat "$POSTGRES_DIR/server.log" >&2
        return 1
    fi
    "$POSTGRES_BIN/createdb" --host=127.0.0.1 --port="$port" --username=postgres muster_test
    export MUSTER_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/muster_test"
    echo "PostgreSQL $("$POSTGRES_BIN/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port"
}

# Safe to call at any point, even if start_postgres failed half-way or never ran.
stop_postgres() {
    if [[ -z "$POSTGRES_DIR" ]]; then
        return 0
    fi
    if [[ -f "$POSTGRES_DIR/data/postmaster.pid" ]]; then
        # Immediate: no shutdown checkpoint, the data is about to be deleted anyway.
        as_postgres "$POSTGRES_BIN/pg_ctl" stop --pgdata="$POSTGRES_DIR/data" --mode=immediate \
            --silent || true
    fi
    rm -rf "$POSTGRES_DIR"
    POSTGRES_DIR=""
}
