"""Typed application settings, read once from the environment and an optional `.env` file.

Every tunable of Triage Desk lives here so that the Reflex config, the REST API, the service
layer, the triage engine and the command-line tools agree on one value.
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated

from limits import parse_many
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_URL = f"sqlite:///{PROJECT_ROOT / 'triage_desk.db'}"


class Settings(BaseSettings):
    """Process-wide configuration.

    Environment variables use the field name in upper case (``DATABASE_URL``); the Gemini key is
    also accepted as ``GOOGLE_API_KEY``, the name Google's SDK uses.
    """

    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str = Field(
        default=DEFAULT_SQLITE_URL,
        description="SQLAlchemy URL; default: an embedded SQLite file in the project directory.",
    )
    database_echo: bool = Field(default=False, description="Log every SQL statement.")

    gemini_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("GEMINI_API_KEY", "GOOGLE_API_KEY", "gemini_api_key"),
        description="Google AI Studio key; without it the offline classifier is used.",
    )
    gemini_model: str = Field(default="gemini-2.5-flash", description="Gemini model name.")
    triage_timeout_seconds: float = Field(
        default=3.0,
        gt=0,
        le=60,
        description="Total time budget for one suggestion, retries included.",
    )
    triage_max_concurrency: int = Field(
        default=4, ge=1, le=64, description="At most this many Gemini calls in flight per process."
    )
    triage_cache_size: int = Field(
        default=512, ge=0, description="Suggestions kept for identical descriptions."
    )
    triage_breaker_failures: int = Field(
        default=3, ge=1, description="Consecutive Gemini failures that open the circuit breaker."
    )
    triage_breaker_cooldown_seconds: float = Field(
        default=30.0, gt=0, description="How long the open breaker skips Gemini."
    )

    max_request_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest accepted API request body (bytes); above: 413.",
    )
    max_description_chars: int = Field(
        default=20_000, ge=1, description="Longest accepted ticket description (characters)."
    )
    page_size_default: int = Field(
        default=50, ge=1, description="Tickets per page when no limit is given."
    )
    page_size_max: int = Field(default=200, ge=1, description="Largest accepted `limit`.")
    count_cap: int = Field(
        default=10_000,
        ge=1,
        description="A list filtered by more than category/priority/status counts its matches "
        "exactly up to this many; beyond, `X-Total-Count` is an estimate "
        "(`X-Total-Count-Exact: false`).",
    )

    bulk_batch_size: int = Field(
        default=500,
        ge=1,
        le=5000,
        description="Tickets a bulk change (or its undo) writes per transaction; each batch "
        "locks its tickets in id order and commits on its own, so concurrent creates wait for "
        "one batch at most.",
    )
    statement_timeout_ms: int = Field(
        default=5000,
        ge=0,
        description="Longest a single SQL statement may run (milliseconds; 0: no limit). "
        "PostgreSQL: `statement_timeout` on every connection; SQLite: a progress handler. "
        "A request whose query is stopped gets 503.",
    )
    database_pool_size: int = Field(
        default=10,
        ge=1,
        description="Database connections kept open per process (SQLAlchemy `pool_size`).",
    )
    database_max_overflow: int = Field(
        default=10,
        ge=0,
        description="Extra connections opened beyond the pool under load, closed when idle.",
    )
    database_pool_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Longest a request waits for a free connection when all are in use; then "
        "503 with Retry-After.",
    )
    rate_limit_writes: str = Field(
        default="600/minute",
        description="Writes per user (all their tokens and sessions together; a credential "
        "that belongs to nobody, or no credential: per credential or address): API POST, "
        "PATCH and DELETE (sign-in excepted) and console changes, in the `limits` notation "
        "(`N/second|minute|hour`, several joined by `;`); empty: no limit.",
    )
    rate_limit_classify: str = Field(
        default="120/minute", description="Classify calls per user; notation as above."
    )
    rate_limit_exports: str = Field(
        default="30/minute", description="CSV exports per user; notation as above."
    )
    rate_limit_reads: str = Field(
        default="3000/minute",
        description="API reads per user other than searches, similar tickets and exports "
        "(lists, tickets, statistics, history, comments, views); notation as above.",
    )
    rate_limit_searches: str = Field(
        default="300/minute",
        description="API lists and statistics with a search term per user; notation as above.",
    )
    rate_limit_similar: str = Field(
        default="300/minute",
        description="API similar-ticket lookups per user; notation as above.",
    )
    expensive_reads_per_user: int = Field(
        default=2,
        ge=0,
        description="Expensive API reads (searches, statistics, similar tickets, lists with "
        "several or unindexed filters) one user may run at once per process; more at the "
        "same time: 429 with Retry-After. 0: no per-user cap.",
    )
    export_concurrency_per_user: int = Field(
        default=2,
        ge=1,
        description="CSV exports (API and console) one user runs at once per process, all "
        "their tokens and sessions together; another one gets 429 with Retry-After.",
    )
    export_send_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="An export download whose client accepts no data for this long is "
        "aborted, freeing its slot and temporary file.",
    )
    export_read_share: float = Field(
        default=0.25,
        gt=0,
        le=1,
        description="Share of its time an API export's reader works; it rests the rest, so "
        "building CSV rows (which holds the interpreter lock) cannot slow other requests "
        "(1: no rest).",
    )
    search_concurrency: int = Field(
        default=4,
        ge=0,
        description="Expensive API reads (as above) that run at once per process; others wait "
        "their turn, so writes and plain reads keep their threads and connections. 0: no gate.",
    )
    search_queue_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Longest an expensive read waits for its turn; then 503 with Retry-After.",
    )
    import_stale_after_seconds: float = Field(
        default=300.0,
        gt=0,
        description="A running import that shows no sign of life this long (its process was "
        "killed) is marked failed at the next start of serve, migrate or an import.",
    )
    rate_limit_storage_url: str = Field(
        default="memory://",
        description="Where rate-limit counters live: `memory://` (per process) or a `limits` "
        "storage URL such as `redis://host:6379` shared by every worker.",
    )

    session_max_age_hours: float = Field(
        default=12.0, gt=0, description="A console session ends this long after sign-in."
    )
    session_idle_minutes: float = Field(
        default=60.0, gt=0, description="A console session ends after this long without use."
    )
    invitation_link_hours: float = Field(
        default=72.0, gt=0, description="An invitation link works this long after it is made."
    )
    reset_link_hours: float = Field(
        default=24.0, gt=0, description="A password reset link works this long after it is made."
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins allowed per account and per client address each window.",
    )
    login_window_seconds: int = Field(
        default=60, ge=1, description="Length of the sign-in failure window (seconds)."
    )
    setup_token: SecretStr | None = Field(
        default=None,
        description="One-time token for the first-admin page; generated and logged when unset.",
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="Mark the session cookie Secure; default: when the request came over HTTPS.",
    )
    cors_allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed to call the API and the event socket from a browser; "
        "empty means same origin only.",
    )
    public_base_url: str | None = Field(
        default=None,
        description="Public URL of the app (e.g. https://desk.example.com); used for emitted "
        "links and as an allowed origin. Unset: links are relative.",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names the app answers; others get 400. Empty: any host.",
    )
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=list,
        description="Reverse proxies / load balancers (IP addresses or CIDR networks, "
        "comma-separated) whose X-Forwarded-For is believed: the client address for the "
        "per-address sign-in limit and the API rate limits is then the rightmost untrusted "
        "entry. Empty: nobody is trusted, the address is the TCP peer's.",
    )

    mail_secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet key that encrypts mailbox passwords at rest (generate one with "
        "`python -m ticket_app mailboxes keygen`); needed to add a mailbox.",
    )
    storage_dir: Path = Field(
        default=PROJECT_ROOT / "storage",
        description="Folder for files: the `.eml` of every mail (`mail/`), quarantined mail "
        "(`quarantine/`) and attachments (`attachments/`).",
    )
    mail_fetch_interval_seconds: float = Field(
        default=30.0, ge=1, le=3600, description="How often each active mailbox is fetched."
    )
    mail_fetch_batch: int = Field(
        default=200, ge=1, le=10_000, description="At most this many messages per fetch."
    )
    mail_attachment_max_bytes: int = Field(
        default=10_000_000, ge=0, description="Largest attachment kept (bytes); larger: dropped."
    )
    mail_message_attachments_max_bytes: int = Field(
        default=25_000_000,
        ge=0,
        description="Most attachment bytes kept per message; attachments beyond: dropped.",
    )
    mail_raw_max_bytes: int = Field(
        default=40_000_000,
        ge=1024,
        description="Largest message taken in (bytes); a larger one is quarantined.",
    )
    mail_sender_hourly_limit: int = Field(
        default=30,
        ge=1,
        description="Messages one sender may open or add per hour; more are quarantined.",
    )
    sla_warning_ratio: float = Field(
        default=0.8,
        gt=0,
        lt=1,
        description="Share of an SLA target after which the background check records a "
        "warning for the assignee (0.8: at 80% of the business time).",
    )
    sla_due_soon_minutes: int = Field(
        default=60,
        ge=1,
        le=7 * 24 * 60,
        description="A ticket is 'due soon' (list filter `sla=due_soon`, the 'Due soon' view) "
        "when a running target falls due within this many minutes (wall-clock; on a 24/7 "
        "calendar that is business time too).",
    )
    sla_resolved_pauses: bool = Field(
        default=False,
        description="A resolved ticket pauses its next-response and resolution clocks instead "
        "of stopping them (they resume where they stopped when it is reopened).",
    )
    mail_reopen_max_days: float = Field(
        default=30.0,
        gt=0,
        description="A reply to a ticket closed longer ago than this starts a new, linked one.",
    )
    mail_send_retries: int = Field(
        default=8, ge=0, le=50, description="Retries of a temporary SMTP failure before failed."
    )
    mail_retry_delay_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Wait before the first retry; each next one waits twice as long.",
    )
    link_mail_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=60,
        description="Longest wait for each step of the SMTP conversation that e-mails an "
        "invitation or reset link (the admin waits for it).",
    )
    mail_ca_file: Path | None = Field(
        default=None,
        description="CA bundle to verify mail servers' certificates (a private CA); "
        "default: the system's CAs.",
    )
    task_queue_url: str | None = Field(
        default=None,
        description="Where background jobs (mail fetch and send) are queued: `sqlite:///FILE` "
        "(embedded), `redis://host:6379/0` or `postgresql://...` (shared by every worker). "
        "Default: a SQLite file beside a SQLite database (`NAME-tasks.db`), else "
        "`triage_desk_tasks.db` in the project directory.",
    )
    worker_embedded: bool = Field(
        default=True,
        description="`serve` starts the background worker itself; set false when a separate "
        "`python -m ticket_app worker` runs (the compose set-up).",
    )

    @field_validator(
        "rate_limit_writes",
        "rate_limit_classify",
        "rate_limit_exports",
        "rate_limit_reads",
        "rate_limit_searches",
        "rate_limit_similar",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        """Refuse a rate that the `limits` library cannot parse (at start, not on a request)."""
        if value.strip():
            try:
                parse_many(value)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a rate such as 600/minute") from exc
        return value.strip()

    @field_validator("cors_allowed_origins", "allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """Lists come from the environment as comma-separated text."""
        if isinstance(value, str):
            return [item.strip().rstrip("/") for item in value.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        """Comma-separated addresses or networks, refused at start if any is not one.

        A single address is its own network (/32, /128); host bits under a prefix are
        dropped (10.1.2.3/8 is 10.0.0.0/8), as proxies' own trust lists read them.
        """
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            return value
        networks = []
        for item in items:
            text = str(item).strip()
            if not text:
                continue
            try:
                networks.append(ip_network(text, strict=False))
            except ValueError:
                raise ValueError(
                    f"TRUSTED_PROXIES: {text!r} is not an IP address or CIDR network "
                    "(e.g. 10.0.0.5, 172.16.0.0/12 or fd00::/8)"
                ) from None
        return networks


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read on first use."""
    return Settings()
