"""Configuration: defaults, environment overrides, and the per-install secret key."""
import ipaddress
import os
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from . import ratelimit_file
from .instance_files import read_or_create


class Defaults:
    SQLALCHEMY_DATABASE_URI = "sqlite:///kithmeet.sqlite3"
    SQLALCHEMY_ENGINE_OPTIONS = {}
    # The public base URL badges and join posters point at, e.g. https://meet.example.org.
    # Empty: use the host the request came in on.
    PUBLIC_URL = ""
    SECRET_KEY = None
    # Attendees have no password: the browser keeps them signed in for a long time.
    PERMANENT_SESSION_LIFETIME = timedelta(days=365)
    ORGANIZER_SESSION_HOURS = 12
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = None  # None: decided from PUBLIC_URL in finalize()
    # Redis, for what several app servers must share (docs/deploy.md): when set, sessions, rate
    # limits and the mail worker's wake-ups use it unless their own setting names another store.
    REDIS_URL = ""
    # Server-side sessions (kithmeet/sessions.py): kithmeet+db:// (the database) or a redis:// URL.
    # None: REDIS_URL when set, else the database.
    SESSION_STORE_URI = None
    SESSION_PERMANENT = False  # until someone signs in: see sessions.ANONYMOUS_LIFETIME
    SESSION_REFRESH_EACH_REQUEST = False  # sessions.RefreshDaily decides when to write
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session; forms stay open at a door
    # Where rate limits count, so every worker counts together (docs/architecture.md): None is
    # REDIS_URL when set, else on SQLite kithmeet+file:// (a file in the instance folder, shared
    # by this machine's workers) and on PostgreSQL kithmeet+db:// (the database).
    RATELIMIT_STORAGE_URI = None
    RATELIMIT_HEADERS_ENABLED = True
    # Connects per signed-in attendee (or per address for strangers); joins and sign-ins
    # per address, generous because a venue's attendees often share one.
    RATELIMIT_SCAN = "30 per minute"
    RATELIMIT_LOOKUP = "120 per minute"  # badge pages opened, per attendee (or per address for strangers)
    RATELIMIT_JOIN = "120 per minute"
    # Wrong tries at an event's announced code, per browser session and per client address
    # (events/join_policy.py); right ones are not counted.
    RATELIMIT_ENTRY_CODE = "10 per 10 minutes"
    RATELIMIT_ENTRY_CODE_ADDRESS = "200 per 10 minutes"
    RATELIMIT_SIGNIN = "60 per minute"
    RATELIMIT_ORGANIZER_SIGNIN = "10 per minute"
    RATELIMIT_REPORT = "20 per hour"
    RATELIMIT_PROFILE = "30 per hour"  # profile saves per attendee
    # Name searches at the door kiosk (a few letters each), per address: a tablet, not a directory.
    RATELIMIT_KIOSK_SEARCH = "60 per minute"
    # The live dashboard's web is redrawn (every dot placed afresh) only after this many more
    # check-ins or connections, so a dot cannot be matched to the name that just arrived.
    LIVE_WEB_BATCH = 10
    # The door kiosk returns to its start after this long untouched (static/js/kiosk.js).
    KIOSK_IDLE_SECONDS = 30
    # "Björn connected with you": how often an open home or badge page checks (static/js/news.js),
    # and how long the token it checks with stays good (connections/news.py).
    NEWS_POLL_SECONDS = 3
    NEWS_TOKEN_HOURS = 12
    # "I've been here before" (e-mailed sign-in links): requests per client address (a venue
    # shares one), mails per e-mail address and client, and per e-mail address whoever asks
    # (counted in the same storage; see SECURITY.md).
    RATELIMIT_EMAIL_SIGNIN = "60 per hour"
    RATELIMIT_EMAIL_SIGNIN_ADDRESS = "3 per hour"
    RATELIMIT_EMAIL_SIGNIN_ADDRESS_TOTAL = "20 per hour"
    # The request page answers no sooner than this, known address or not: the few writes a
    # known one costs must not show in the response time.
    EMAIL_SIGNIN_MIN_SECONDS = 0.25
    # A scan made offline while its event was open still counts there when it syncs after the
    # event closed, for this many days after closing (events.scan_places.event_for_scan).
    SCAN_SYNC_GRACE_DAYS = 7
    # The reverse proxies whose X-Forwarded-For, -Proto and -Host are believed: addresses or
    # networks ("127.0.0.1", "10.0.0.0/8"), comma-separated in the environment; "*" believes any
    # peer, for an app server nothing else can reach. Empty: none (security.py).
    TRUSTED_PROXIES = ()
    TRUST_PROXY = False  # the older switch: on, with no TRUSTED_PROXIES, is "*"
    FOLLOWUP_PAGE_SIZE = 50
    CHANGELOG_LEVEL = "INFO"  # "WARNING" silences the one-line-per-change log
    MAX_CONTENT_LENGTH = 256 * 1024
    # Outgoing mail (kithmeet/mail). No MAIL_SERVER: messages are written to instance/outbox/.
    MAIL_SERVER = ""
    MAIL_PORT = None  # None: 465 with MAIL_USE_TLS, 587 with MAIL_USE_STARTTLS, else 25
    MAIL_USE_TLS = False  # TLS from the first byte (port 465)
    MAIL_USE_STARTTLS = False
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_SENDER = "kithmeet <kithmeet@localhost>"
    # `flask purge` deletes sent and failed messages (already emptied of body and address)
    # this many days after they finished; queued ones stay until sent.
    MAIL_KEEP_DAYS = 30
    # Where a queued message wakes the mail worker at once (wakeups.py): a redis:// URL; None:
    # REDIS_URL; "" or no Redis: the worker only looks every `--poll` seconds.
    MAIL_WAKEUP_URI = None


ENVIRONMENT = {
    "KITHMEET_PUBLIC_URL": "PUBLIC_URL",
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "KITHMEET_DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "KITHMEET_SECRET_KEY": "SECRET_KEY",
    "KITHMEET_TRUST_PROXY": "TRUST_PROXY",
    "KITHMEET_TRUSTED_PROXIES": "TRUSTED_PROXIES",
    "KITHMEET_REDIS_URL": "REDIS_URL",
    "KITHMEET_MAIL_WAKEUP_URI": "MAIL_WAKEUP_URI",
    "KITHMEET_TRUSTED_HOSTS": "TRUSTED_HOSTS",
    "KITHMEET_RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "KITHMEET_SESSION_STORE_URI": "SESSION_STORE_URI",
    "KITHMEET_MAIL_SERVER": "MAIL_SERVER",
    "KITHMEET_MAIL_PORT": "MAIL_PORT",
    "KITHMEET_MAIL_USE_TLS": "MAIL_USE_TLS",
    "KITHMEET_MAIL_USE_STARTTLS": "MAIL_USE_STARTTLS",
    "KITHMEET_MAIL_USERNAME": "MAIL_USERNAME",
    "KITHMEET_MAIL_PASSWORD": "MAIL_PASSWORD",
    "KITHMEET_MAIL_SENDER": "MAIL_SENDER",
    "KITHMEET_MAIL_KEEP_DAYS": "MAIL_KEEP_DAYS",
}
FLAGS = ("TRUST_PROXY", "MAIL_USE_TLS", "MAIL_USE_STARTTLS")  # "1", "true" or "yes" in the environment


def apply_environment(config, environ):
    for name, key in ENVIRONMENT.items():
        value = environ.get(name)
        if value:
            config[key] = value
    if isinstance(config.get("TRUSTED_HOSTS"), str):  # comma-separated in the environment
        config["TRUSTED_HOSTS"] = [host.strip() for host in config["TRUSTED_HOSTS"].split(",") if host.strip()]
    for flag in FLAGS:
        if isinstance(config.get(flag), str):
            config[flag] = config[flag].lower() in ("1", "true", "yes")
    for number in ("MAIL_PORT", "MAIL_KEEP_DAYS"):
        if isinstance(config.get(number), str):
            config[number] = int(config[number])
    config["SQLALCHEMY_DATABASE_URI"] = database_uri(config["SQLALCHEMY_DATABASE_URI"])


def database_uri(uri):
    """Hosting platforms hand out postgres:// URLs; use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix):]
    return uri


def finalize(app):
    config = app.config
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    public = config.get("PUBLIC_URL") or ""
    if public:
        parts = urlsplit(public)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"PUBLIC_URL must look like https://meet.example.org, not {public!r}")
        # Only scheme and host: badge URLs are upper-cased for a small QR, and paths are
        # case-sensitive, so a path prefix could not survive that.
        config["PUBLIC_URL"] = f"{parts.scheme}://{parts.netloc}"
    if config.get("MAIL_USE_TLS") and config.get("MAIL_USE_STARTTLS"):
        raise ValueError("Set MAIL_USE_TLS (port 465) or MAIL_USE_STARTTLS (port 587), not both")
    if config.get("SESSION_COOKIE_SECURE") is None:
        config["SESSION_COOKIE_SECURE"] = public.startswith("https://")
    shared_stores(config, app.instance_path)
    config["TRUSTED_PROXIES"] = trusted_proxies(config.get("TRUSTED_PROXIES"), config.get("TRUST_PROXY"))
    if not config.get("TRUSTED_HOSTS"):  # unset, or an empty list, which werkzeug reads as "any host"
        config["TRUSTED_HOSTS"] = trusted_hosts(config["PUBLIC_URL"], os.environ.get("HOST", ""))


def shared_stores(config, instance_path):
    """Sessions, rate limits and mail wake-ups in REDIS_URL unless their own setting names a store."""
    redis_url = config.get("REDIS_URL") or ""
    if not config.get("SESSION_STORE_URI"):
        config["SESSION_STORE_URI"] = redis_url or "kithmeet+db://"
    if not config.get("RATELIMIT_STORAGE_URI"):
        # SQLite is one machine: its workers count in a file, not in the database, whose one
        # write lock every connect needs.
        sqlite = config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
        config["RATELIMIT_STORAGE_URI"] = redis_url or (ratelimit_file.SCHEME + "://" if sqlite else "kithmeet+db://")
    if config["RATELIMIT_STORAGE_URI"] == ratelimit_file.SCHEME + "://":  # no path: the instance folder's
        config["RATELIMIT_STORAGE_URI"] = ratelimit_file.uri_for(os.path.join(instance_path, ratelimit_file.FILE_NAME))
    if config.get("MAIL_WAKEUP_URI") is None:
        config["MAIL_WAKEUP_URI"] = redis_url


def trusted_proxies(listed, trust_proxy=False):
    """TRUSTED_PROXIES as a tuple of networks, or ("*",) for any peer. A string is read as a
    comma-separated list (instance/config.py may write it either way). TRUST_PROXY on with
    nothing listed keeps its old meaning: whoever connects is the proxy."""
    if isinstance(listed, str):
        listed = [item.strip() for item in listed.split(",") if item.strip()]
    listed = list(listed or ())
    if not listed:
        return ("*",) if trust_proxy else ()
    if "*" in listed:
        return ("*",)
    try:
        return tuple(ipaddress.ip_network(item, strict=False) for item in listed)
    except ValueError:
        raise ValueError(f"TRUSTED_PROXIES must list addresses or networks (or *), not {listed!r}") from None


LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


def trusted_hosts(public_url, bind_host):
    """The Host headers this install answers: this machine, the host `make run` listens on,
    and the public URL's. Anything else (`Host: evil.example`) is refused, so no page or
    badge QR is ever built on an address an attacker chose."""
    hosts = list(LOOPBACK_HOSTS)
    if bind_host and bind_host not in ("0.0.0.0", "::") and ":" not in bind_host:
        hosts.append(bind_host)
    if public_url:
        hosts.append(urlsplit(public_url).hostname)
    return list(dict.fromkeys(hosts))


def instance_secret_key(instance_path):
    """The secret key from the instance folder, created on first run."""
    return read_or_create(os.path.join(instance_path, "secret_key"), lambda: secrets.token_urlsafe(48))
