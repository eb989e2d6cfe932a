"""A local PostgreSQL server as the backend store of both Prefect and MLflow (``make up-postgres``).

Started from the machine's own PostgreSQL packages (Debian: ``apt-get install postgresql``),
with its cluster in ``$RETRAINER_HOME/postgres``: one superuser ``retrainer`` whose password
comes from ``RETRAINER_POSTGRES_PASSWORD`` or, when unset, is generated once and kept in
``$RETRAINER_HOME/postgres/password`` (mode 0600). Two databases, ``prefect`` and ``mlflow``.
PostgreSQL refuses to run as root, so a root caller runs it as the ``postgres`` system user.
"""

import os
import secrets
import shutil
import subprocess
from pathlib import Path

from pydantic import SecretStr

from retrainer.boundaries.settings import Home, settings
from retrainer.operations.processes import StackError

USER = "retrainer"
DATABASES = ("prefect", "mlflow")
SYSTEM_USER = "postgres"


def binaries() -> Path:
    """The folder of the newest installed PostgreSQL server (``initdb``, ``postgres``)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        on_path = shutil.which("initdb")
        if on_path is None:
            raise StackError(
                "PostgreSQL server binaries not found: install them (Debian: "
                "`apt-get install postgresql`) or use `make up` with SQLite"
            )
        return Path(on_path).parent
    return found[-1].parent


def as_server_user(argv: list[str]) -> list[str]:
    """``argv`` run as the ``postgres`` system user when we are root (PostgreSQL demands it)."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", SYSTEM_USER, "--", *argv]


def password(h: Home) -> SecretStr:
    """The ``retrainer`` user's password: from the environment, else generated once."""
    configured = settings().postgres_password
    if configured is not None:
        return configured
    stored = h.postgres / "password"
    if not stored.exists():
        h.postgres.mkdir(parents=True, exist_ok=True)
        stored.touch(mode=0o600)
        stored.write_text(secrets.token_urlsafe(24))
    return SecretStr(stored.read_text().strip())


def ensure_cluster(h: Home, secret: SecretStr) -> None:
    """Create the cluster under ``$RETRAINER_HOME/postgres/data`` unless it exists."""
    data = h.postgres / "data"
    if (data / "PG_VERSION").exists():
        return
    data.mkdir(parents=True, exist_ok=True)
    pwfile = h.postgres / "initdb.pw"
    pwfile.touch(mode=0o600)
    pwfile.write_text(secret.get_secret_value() + "\n")
    try:
        if os.geteuid() == 0:
            _reachable_by_server_user(h.postgres)
            for path in (h.postgres, data, pwfile):
                shutil.chown(path, SYSTEM_USER, SYSTEM_USER)
        initdb = [str(binaries() / "initdb"), "-D", str(data), "-U", USER]
        auth = ["-A", "scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8"]
        done = subprocess.run(as_server_user(initdb + auth), capture_output=True, text=True)
    finally:
        pwfile.unlink(missing_ok=True)
    if done.returncode != 0:
        raise StackError(f"initdb failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def _reachable_by_server_user(folder: Path) -> None:
    for parent in reversed(folder.resolve().parents):
        if not parent.stat().st_mode & 0o001:
            raise StackError(
                f"the {SYSTEM_USER} system user cannot enter {parent} (PostgreSQL refuses to "
                "run as root): set RETRAINER_HOME to a folder under a world-traversable path, "
                "or run as an ordinary user"
            )


def server_argv(h: Home, host: str, port: int) -> list[str]:
    """The PostgreSQL server in the foreground, listening on ``host:port`` only."""
    return as_server_user(
        [
            str(binaries() / "postgres"),
            *("-D", str(h.postgres / "data"), "-p", str(port)),
            *("-k", str(h.postgres / "data"), "-c", f"listen_addresses={host}"),
        ]
    )


def url(host: str, port: int, database: str, secret: SecretStr, driver: str) -> str:
    """A SQLAlchemy URL for ``database`` with the password in it (for a child's environment)."""
    return f"postgresql+{driver}://{USER}:{secret.get_secret_value()}@{host}:{port}/{database}"


def answers(host: str, port: int, secret: SecretStr) -> bool:
    """True once the server accepts a login."""
    import psycopg2

    try:
        psycopg2.connect(
            host=host, port=port, user=USER, password=secret.get_secret_value(), dbname="postgres"
        ).close()
    except psycopg2.OperationalError:
        return False
    return True


def create_databases(host: str, port: int, secret: SecretStr) -> None:
    """Create the ``prefect`` and ``mlflow`` databases that do not exist yet."""
    import psycopg2

    conn = psycopg2.connect(
        host=host, port=port, user=USER, password=secret.get_secret_value(), dbname="postgres"
    )
    try:
        conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
        with conn.cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database")
            present = {row[0] for row in cursor.fetchall()}
            for database in DATABASES:
                if database not in present:
                    cursor.execute(f'CREATE DATABASE "{database}"')
    finally:
        conn.close()
