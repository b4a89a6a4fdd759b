"""Real services for the tests: a PostgreSQL (the one answering, or a private one started here) and Redis."""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from core.settings import Settings


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


# --- Redis -----------------------------------------------------------------------------------------------------


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes]
    workdir: str

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def start_redis() -> RedisServer:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: run `make test`, which installs it")
    workdir = tempfile.mkdtemp(prefix="tehuibao-redis-")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
    )
    server = RedisServer(port, process, workdir)
    wait_until(server.answers, 10, "redis-server")
    return server


# --- PostgreSQL ----------------------------------------------------------------------------------------------


def _answers(conninfo: str) -> bool:
    try:
        with psycopg.connect(conninfo, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def _pg_bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: install postgresql (make test does)")
    return found


@dataclass
class PostgresServer:
    """Admin connection info for a server; `private_dir` is set when this process started the server."""

    admin_conninfo: str
    host: str
    port: int
    user: str
    private_dir: str | None = None
    databases: list[str] = field(default_factory=list)

    def create_database(self) -> str:
        name = f"tehuibao_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
        self.databases.append(name)
        return f"postgresql+psycopg://{self.user}@/{name}?host={self.host}&port={self.port}"

    def drop_databases(self) -> None:
        with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
            for name in self.databases:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.databases.clear()

    def stop(self) -> None:
        if self.private_dir:
            _as_postgres([_pg_bin("pg_ctl"), "-D", self.private_dir + "/data", "-m", "fast", "-w", "stop"])
            shutil.rmtree(self.private_dir, ignore_errors=True)


def _as_postgres(command: list[str]) -> None:
    """initdb refuses to run as root; as root we run the server as the postgres system user."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def start_private_postgres() -> PostgresServer:
    workdir = tempfile.mkdtemp(prefix="tehuibao-pg-")
    os.chmod(workdir, 0o755)  # noqa: S103 - the postgres user must reach its socket here
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    data = workdir + "/data"
    port = free_port()
    _as_postgres([_pg_bin("initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
    _as_postgres(
        [
            _pg_bin("pg_ctl"),
            "-D",
            data,
            "-l",
            workdir + "/server.log",
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -k {workdir} -c listen_addresses='' -c fsync=off",
            "start",
        ]
    )
    conninfo = f"host={workdir} port={port} user=postgres dbname=postgres"
    return PostgresServer(conninfo, workdir, port, "postgres", private_dir=workdir)


@contextlib.contextmanager
def postgres() -> Iterator[PostgresServer]:
    """TEST_POSTGRES_ADMIN (a libpq conninfo) if given; else a private server started here (fsync off: emptying the
    tables between tests costs a tenth of what it does on a durable server); TEST_POSTGRES=local uses the local
    server if one answers instead.
    """
    explicit = os.environ.get("TEST_POSTGRES_ADMIN")
    server: PostgresServer | None = None
    if explicit:
        info = psycopg.conninfo.conninfo_to_dict(explicit)
        server = PostgresServer(
            explicit, str(info.get("host", "127.0.0.1")), int(info.get("port", 5432)), str(info.get("user", "postgres"))
        )
    elif os.environ.get("TEST_POSTGRES") == "local":
        for host in ("/var/run/postgresql", "127.0.0.1"):
            conninfo = f"host={host} port=5432 user=postgres dbname=postgres"
            if _answers(conninfo):
                server = PostgresServer(conninfo, host, 5432, "postgres")
                break
    if server is None:
        server = start_private_postgres()
    try:
        yield server
    finally:
        server.drop_databases()
        server.stop()


# --- the worker process ---------------------------------------------------------------------------------------


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """A real worker process; its output goes to a file (a pipe nobody reads would block it when full)."""
    root = Path(__file__).resolve().parent.parent
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "worker.py"], cwd=root, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )


def start_worker_and_wait(env: dict[str, str], log_path: Path, redis_url: str) -> subprocess.Popen[bytes]:
    """A real worker whose own heartbeat (named host.pid) is in Redis: it is ready to take jobs."""
    from core.queue import read_heartbeats, redis_from_url

    process = start_worker(env, log_path)
    name = f"{socket.gethostname()}.{process.pid}"
    redis = redis_from_url(redis_url)

    def beating() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"worker exited with {process.returncode}: {log_path.read_text()}")
        return any(beat.get("name") == name for beat in read_heartbeats(redis))

    try:
        wait_until(beating, 60, "the worker's heartbeat")
    except BaseException:
        stop_process(process)
        raise
    return process


def stop_process(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def running_worker(
    settings: Settings, log_path: Path, *, empty_queue: bool = True, **extra_env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A real `worker.py` on the test's database, Redis, queue and var dir, ready to take jobs; jobs other tests left
    on the shared Redis are dropped first (they are not ours). `extra_env` sets more settings (SWEEP_SECONDS=...).
    Stopped on leaving."""
    from core.queue import get_queue, redis_from_url

    if empty_queue:
        get_queue(redis_from_url(settings.redis_url), settings.queue_name).empty()
    env = {
        "DATABASE_URL": settings.effective_database_url,
        "REDIS_URL": settings.redis_url,
        "VAR_DIR": str(settings.var_dir),
        "QUEUE_NAME": settings.queue_name,
        **extra_env,
    }
    process = start_worker_and_wait(env, log_path, settings.redis_url)
    try:
        yield process
    finally:
        stop_process(process)


def run_worker_until_idle(settings: Settings) -> None:
    """A real RQ worker in this process, until its queue is empty. RQ installs its own SIGINT and SIGTERM handlers
    and leaves them behind; they are put back, or a signal to the test process later raises RQ's StopRequested
    inside whatever runs then."""
    from rq import SimpleWorker

    from core.queue import get_queue, redis_from_url

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    connection = redis_from_url(settings.redis_url)
    try:
        SimpleWorker([get_queue(connection, settings.queue_name)], connection=connection).work(burst=True)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
