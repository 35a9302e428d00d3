"""Configuration from environment variables, with defaults that work on a developer's machine.

The set-up script writes generated role passwords to ``var/lick.env``; this module reads that file
too (real environment variables win), so that ``pytest``, ``lick-admin`` and the servers all agree
without every shell having to source it first.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ENV_FILE = REPO_ROOT / "var" / "lick.env"


def read_env_file(path: Path) -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines (``#`` comments, optional quotes); missing file: empty."""
    values: dict[str, str] = {}
    try:
        text = path.read_text()
    except OSError:
        return values
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.removeprefix("export ").strip()
        values[key] = value.strip().strip("'\"")
    return values


@dataclass(frozen=True)
class RegistryCuration:
    """Who publishes the archive and what its records say about it (VOResource 1.1 curation/content)."""

    publisher: str
    contact_name: str
    contact_email: str
    reference_url: str  # '' means the archive's own home page (the public URL)
    subjects: tuple[str, ...]  # UAT concept labels (VOResource 1.1 §3.1.3 recommends the UAT)
    content_level: tuple[str, ...]
    content_type: str
    rights: str
    max_records: int  # the OAI-PMH page size, declared as maxRecords in the Harvest capability


#: A name PostgreSQL takes as it is, quoted or not (NAMEDATALEN - 1 = 63 bytes).
_PLAIN_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class Settings:
    """Every knob of the archive, read once per process."""

    db_host: str
    db_port: int
    db_name: str
    owner_role: str
    owner_password: str
    ingest_role: str
    ingest_password: str
    query_role: str
    query_password: str
    #: Where users' queries run: ``host:port`` of read replicas (PostgreSQL hot standbys streaming
    #: from the primary), tried in order; none means the primary (``db_host``/``db_port``).
    #: Everything that writes, and uploads' scratch tables, stays on the primary (docs/deployment.md).
    query_servers: tuple[tuple[str, int], ...]
    #: With replicas: when none of them answers, run queries on the primary rather than fail (503).
    query_fallback_to_primary: bool
    #: Seconds a connection attempt to a query server may take before the next is tried (libpq
    #: ``connect_timeout``): a replica that does not answer gives an error, never a hang.
    query_connect_timeout_s: int
    redis_url: str
    archive_root: Path
    public_url: str
    ivoa_authority: str
    proprietary_years: int
    results_dir: Path
    preview_dir: Path
    secret_key: str
    debug: bool
    ingest_url: str
    ingest_token: str
    celery_queue: str
    sendfile: str  # '', 'x-sendfile' (Apache) or 'x-accel' (nginx): who sends file bytes
    bundle_dir: Path  # where download bundles are built and kept until they expire
    bundle_max_files: int
    bundle_max_bytes: int  # of the files' sizes, before compression
    bundle_lifetime_s: int  # from a bundle's completion to the deletion of its file
    #: How long a pre-authorised URL (one resource, one user; SAMP from the portal) stays valid.
    samp_url_lifetime_s: int
    #: Addresses or networks of the reverse proxies in front of gunicorn, whose X-Forwarded-For
    #: names the real client (for the log-in throttle); none by default.
    trusted_proxies: tuple[str, ...]
    #: Curation of the VOResource records the publishing registry serves (/oai): what an operator
    #: fills in (docs/deployment.md). VOResource 1.1 §3.1.2, §3.1.3.
    registry: RegistryCuration

    def __post_init__(self) -> None:
        """The role and database names are written into DDL (``GRANT ... TO "lick_query"``, the
        row-security policy), where a name cannot be a bound parameter: each must be a plain
        lower-case SQL identifier, so that no value of the env file can break out of its quotes."""
        for knob, name in (("LICK_DB_NAME", self.db_name), ("LICK_OWNER_ROLE", self.owner_role),
                           ("LICK_INGEST_ROLE", self.ingest_role), ("LICK_QUERY_ROLE", self.query_role)):
            if not _PLAIN_IDENTIFIER.fullmatch(name):
                raise ValueError(f"{knob}={name!r}: a role or database name must be a lower-case SQL "
                                 "identifier (letters a-z, digits and _, starting with a letter or _, "
                                 "at most 63 characters)")

    def database_url(self, role: str = "owner", dbname: str | None = None) -> str:
        """SQLAlchemy URL for one of the three roles: ``owner``, ``ingest`` or ``query``."""
        user, password = self._credentials(role)
        auth = f"{user}:{password}" if password else user
        return f"postgresql+psycopg2://{auth}@{self.db_host}:{self.db_port}/{dbname or self.db_name}"

    def dsn(self, role: str = "owner", dbname: str | None = None) -> str:
        """libpq connection string for psycopg2 used without SQLAlchemy."""
        return self.database_url(role, dbname).replace("postgresql+psycopg2://", "postgresql://")

    @property
    def has_replicas(self) -> bool:
        return bool(self.query_servers)

    def query_hosts(self) -> tuple[tuple[str, int], ...]:
        """The servers users' queries may run on, in the order they are tried."""
        if not self.query_servers:
            return ((self.db_host, self.db_port),)
        primary = ((self.db_host, self.db_port),) if self.query_fallback_to_primary else ()
        return self.query_servers + primary

    def query_dsn(self, role: str = "query", server: tuple[str, int] | None = None) -> str:
        """libpq connection string to the query servers (:meth:`query_hosts`; libpq tries each
        in turn, ``connect_timeout`` seconds at most), or to the one ``server``."""
        user, password = self._credentials(role)
        hosts = (server,) if server else self.query_hosts()
        auth = f"{user}:{password}" if password else user
        addresses = ",".join(f"{host}:{port}" for host, port in hosts)
        return f"postgresql://{auth}@{addresses}/{self.db_name}?connect_timeout={self.query_connect_timeout_s}"

    def _credentials(self, role: str) -> tuple[str, str]:
        return {
            "owner": (self.owner_role, self.owner_password),
            "ingest": (self.ingest_role, self.ingest_password),
            "query": (self.query_role, self.query_password),
        }[role]


def _env(values: dict[str, str], key: str, default: str) -> str:
    return os.environ.get(key) or values.get(key) or default


def configured_int(key: str, default: int) -> int:
    """An integer knob (the service limits) from the environment or the env file, else ``default``."""
    return int(_env(read_env_file(Path(os.environ.get("LICK_ENV_FILE", DEFAULT_ENV_FILE))), key, str(default)))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    values = read_env_file(Path(os.environ.get("LICK_ENV_FILE", DEFAULT_ENV_FILE)))
    var_dir = REPO_ROOT / "var"
    return Settings(
        db_host=_env(values, "LICK_DB_HOST", "127.0.0.1"),
        db_port=int(_env(values, "LICK_DB_PORT", "5432")),
        db_name=_env(values, "LICK_DB_NAME", "lick_archive"),
        owner_role=_env(values, "LICK_OWNER_ROLE", "lick_owner"),
        owner_password=_env(values, "LICK_OWNER_PASSWORD", ""),
        ingest_role=_env(values, "LICK_INGEST_ROLE", "lick_ingest"),
        ingest_password=_env(values, "LICK_INGEST_PASSWORD", ""),
        query_role=_env(values, "LICK_QUERY_ROLE", "lick_query"),
        query_password=_env(values, "LICK_QUERY_PASSWORD", ""),
        query_servers=_servers(_env(values, "LICK_QUERY_DB_HOSTS", "")),
        query_fallback_to_primary=_env(values, "LICK_QUERY_DB_FALLBACK", "0") == "1",
        query_connect_timeout_s=int(_env(values, "LICK_QUERY_DB_CONNECT_TIMEOUT", "5")),
        redis_url=_env(values, "LICK_REDIS_URL", "redis://127.0.0.1:6379/0"),
        archive_root=Path(_env(values, "LICK_ARCHIVE_ROOT", str(var_dir / "demo_archive"))),
        public_url=_env(values, "LICK_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        ivoa_authority=_env(values, "LICK_IVOA_AUTHORITY", "ivo://lick.ucolick.org/archive"),
        proprietary_years=int(_env(values, "LICK_PROPRIETARY_YEARS", "2")),
        results_dir=Path(_env(values, "LICK_RESULTS_DIR", str(var_dir / "results"))),
        preview_dir=Path(_env(values, "LICK_PREVIEW_DIR", str(var_dir / "previews"))),
        secret_key=_env(values, "LICK_SECRET_KEY", ""),  # no fallback: vo_services.settings refuses to start
        debug=_env(values, "LICK_DEBUG", "0") == "1",
        ingest_url=_env(values, "LICK_INGEST_URL", "http://127.0.0.1:8001").rstrip("/"),
        ingest_token=_env(values, "LICK_INGEST_TOKEN", ""),
        celery_queue=_env(values, "LICK_CELERY_QUEUE", "lick"),
        sendfile=_env(values, "LICK_SENDFILE", ""),
        bundle_dir=Path(_env(values, "LICK_BUNDLE_DIR", str(var_dir / "bundles"))),
        bundle_max_files=int(_env(values, "LICK_BUNDLE_MAX_FILES", "10000")),
        bundle_max_bytes=int(_env(values, "LICK_BUNDLE_MAX_BYTES", str(50 * 10**9))),
        bundle_lifetime_s=int(_env(values, "LICK_BUNDLE_LIFETIME", str(3 * 86_400))),
        samp_url_lifetime_s=int(_env(values, "LICK_SAMP_URL_LIFETIME", "300")),
        trusted_proxies=tuple(p.strip() for p in _env(values, "LICK_TRUSTED_PROXIES", "").split(",") if p.strip()),
        registry=_registry_curation(values),
    )


def _servers(value: str) -> tuple[tuple[str, int], ...]:
    """``host:port,host:port`` (port 5432 when left out) as (host, port) pairs."""
    servers = []
    for item in value.split(","):
        if item.strip():
            host, _, port = item.strip().rpartition(":") if ":" in item else (item.strip(), "", "5432")
            servers.append((host, int(port)))
    return tuple(servers)


def _list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(";") if item.strip())


def _registry_curation(values: dict[str, str]) -> RegistryCuration:
    return RegistryCuration(
        publisher=_env(values, "LICK_REGISTRY_PUBLISHER", "Lick Observatory"),
        contact_name=_env(values, "LICK_REGISTRY_CONTACT_NAME", "Lick Observatory archive staff"),
        contact_email=_env(values, "LICK_REGISTRY_CONTACT_EMAIL", "archive@ucolick.org"),
        reference_url=_env(values, "LICK_REGISTRY_REFERENCE_URL", ""),
        subjects=_list(_env(values, "LICK_REGISTRY_SUBJECTS",
                            "Optical astronomy;Spectroscopy;Astronomical techniques;Observational astronomy")),
        content_level=_list(_env(values, "LICK_REGISTRY_CONTENT_LEVEL", "Research")),
        content_type=_env(values, "LICK_REGISTRY_CONTENT_TYPE", "Archive"),
        rights=_env(values, "LICK_REGISTRY_RIGHTS",
                    "Data are public once their proprietary period has ended; please acknowledge "
                    "Lick Observatory when you use them."),
        max_records=int(_env(values, "LICK_REGISTRY_MAX_RECORDS", "100")),
    )
