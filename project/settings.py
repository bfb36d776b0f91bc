"""Cutroom settings. Every knob is an environment variable (see .env.example).

A `.env` file in the project root is read when present; real environment variables win.
"""

from decimal import Decimal
from pathlib import Path

import environ
from csp.constants import NONCE, SELF
from django.core.exceptions import ImproperlyConfigured

# --- Core: profile, hosts, apps, middleware --------------------------------------------
BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# DJANGO_ENV=production forces the production profile even if DEBUG is unset.
DJANGO_ENV = env.str("DJANGO_ENV", default="")
DEBUG = env.bool("DEBUG", default=DJANGO_ENV != "production")
if DJANGO_ENV == "production":
    DEBUG = False

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is false.")
    SECRET_KEY = "dev-insecure-key-only-for-debug-mode"  # noqa: S105 - never used in production

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "corsheaders",
    # django-ninja: its app serves the API docs' Swagger UI from /static/ (no CDN, no
    # inline script), which the CSP and an offline machine both need.
    "ninja",
    "project",
    "media_library",
    "generation",
    "editor",
    "onboarding",
]

MIDDLEWARE = [
    "project.middleware.RequestIdMiddleware",
    # Outermost but for the request id: Redis down is a 503 from every layer below.
    "project.middleware.BackendDownMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "project.middleware.LoginRequiredEverywhereMiddleware",
]

ROOT_URLCONF = "project.urls"
ASGI_APPLICATION = "project.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Database, cache (Redis) and channel layer -----------------------------------------
DATABASES = {
    # An empty DATABASE_URL means the embedded default, like an unset one.
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'cutroom.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Workers and daphne share the file; wait for locks instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # BEGIN IMMEDIATE: a transaction that reads then writes takes the write lock up front.
    # With the default DEFERRED, two processes upgrading their read locks get SQLITE_BUSY
    # at once ("database is locked", the timeout above never applies) and the task dies.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="cutroom"),
        # Fail fast when Redis is down or unreachable (a 503 from BackendDownMiddleware),
        # instead of holding the request for redis-py's default 5 s read timeout.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # redis-py 8 reads with a 5 s socket timeout by default, and channels-redis
            # blocks in BZPOPMIN for 5 s: every idle websocket consumer died after ~5 s
            # ("Timeout reading from ..."), dropping pushes until the tab reconnected.
            "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "socket_connect_timeout": 2}],
            "prefix": env.str("CHANNEL_PREFIX", default="cutroom:asgi"),
            "capacity": 500,
            "expiry": 30,
        },
    }
}

# --- Accounts, language, time ----------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "editor:workspace"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media files, object storage --------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# A test run (CUTROOM_TEST_SLOT set, as `make test` does) keeps its files apart from the
# developer's library; the worker and daphne subprocesses inherit the same slot.
_TEST_SLOT_FOR_MEDIA = env.str("CUTROOM_TEST_SLOT", default="")
MEDIA_ROOT = env.path(
    "MEDIA_ROOT",
    default=VAR_DIR / (f"test-media-{_TEST_SLOT_FOR_MEDIA}" if _TEST_SLOT_FOR_MEDIA else "media"),
)
MEDIA_URL = "/media-files/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Object storage (S3 or any S3-compatible server) for media when a bucket is named;
# files are then served through short-lived presigned URLs, after the owner check.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "querystring_auth": True,
            "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=300),
            # Signature V4 (V2 presigned URLs are refused by newer AWS regions); path-style
            # addressing for S3-compatible servers that have no per-bucket hostnames.
            "signature_version": env.str("AWS_S3_SIGNATURE_VERSION", default="s3v4"),
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="") or None,
            "file_overwrite": False,
            "default_acl": None,
        },
    }
MEDIA_STORAGE_IS_REMOTE = bool(AWS_STORAGE_BUCKET_NAME)
# Where the presigned media redirects land: the browser must be allowed to load <video>
# and <img> from there (CSP img-src/media-src apply to redirect targets too).
_s3_endpoint = env.str("AWS_S3_ENDPOINT_URL", default="")
MEDIA_STORAGE_ORIGIN = env.str(
    "MEDIA_STORAGE_ORIGIN",
    default=(
        ""
        if not AWS_STORAGE_BUCKET_NAME
        else "/".join(_s3_endpoint.split("/")[:3])
        if _s3_endpoint
        else "https://*.amazonaws.com"
    ),
)
_MEDIA_ORIGINS = [MEDIA_STORAGE_ORIGIN] if MEDIA_STORAGE_ORIGIN else []
MEDIA_ACCEL_REDIRECT_PREFIX = env.str("MEDIA_ACCEL_REDIRECT_PREFIX", default="")

# Development serves static files straight from static/ and the packages (no collectstatic).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Request bodies and uploads --------------------------------------------------------
# Uploads stream to disk past this size so a 2 GB clip never sits in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Every request body that is neither an upload chunk nor a multipart form (JSON, forms,
# webhooks) is refused above this, in the ASGI layer before anything reads it
# (project/body_limits.py). Replicate's webhook bodies carry logs: a few hundred KB.
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=2 * 1024 * 1024)
MEDIA_MAX_UPLOAD_MB = env.int("MEDIA_MAX_UPLOAD_MB", default=2048)
MEDIA_MAX_IMAGE_PIXELS = env.int("MEDIA_MAX_IMAGE_PIXELS", default=50_000_000)
# Animations: at most this many frames, and frames × canvas pixels (the decode cost) at
# most MEDIA_MAX_ANIMATION_PIXELS; checked from the file's structure before any decode.
MEDIA_MAX_IMAGE_FRAMES = env.int("MEDIA_MAX_IMAGE_FRAMES", default=1000)
MEDIA_MAX_ANIMATION_PIXELS = env.int("MEDIA_MAX_ANIMATION_PIXELS", default=500_000_000)
MEDIA_PROBE_TIME_LIMIT_S = env.int("MEDIA_PROBE_TIME_LIMIT_S", default=120)
# Single-request (multipart) uploads, browser and POST /api/media, are for small files
# only; larger ones go through the resumable chunked protocol (docs/uploads.md).
SMALL_UPLOAD_MAX_MB = env.int("SMALL_UPLOAD_MAX_MB", default=8)
# Partial bytes of chunked uploads. Every web node must see the same directory (a shared
# volume) when there is more than one: a chunk may land on any node.
_PARTIAL = f"test-uploads-partial-{_TEST_SLOT_FOR_MEDIA}" if _TEST_SLOT_FOR_MEDIA else ""
UPLOAD_PARTIAL_DIR = env.path(
    "UPLOAD_PARTIAL_DIR", default=VAR_DIR / (_PARTIAL or "uploads-partial")
)
# The chunk size the server asks clients to send, and the most one PATCH may carry.
UPLOAD_CHUNK_BYTES = env.int("UPLOAD_CHUNK_BYTES", default=8 * 1024 * 1024)
UPLOAD_CHUNK_MAX_BYTES = env.int("UPLOAD_CHUNK_MAX_BYTES", default=16 * 1024 * 1024)
# A chunked upload idle this long is removed (with its partial file) by the beat.
UPLOAD_EXPIRE_HOURS = env.int("UPLOAD_EXPIRE_HOURS", default=24)
UPLOAD_MAX_OPEN_PER_USER = env.int("UPLOAD_MAX_OPEN_PER_USER", default=20)
# Lifetime of the signed download links the JSON API hands out (media_url). Minutes, not
# hours: a link is a bearer credential and URLs end up in logs and browser histories.
MEDIA_SIGNED_URL_MAX_AGE_S = env.int("MEDIA_SIGNED_URL_MAX_AGE_S", default=600)
# --- Timeline export -------------------------------------------------------------------
# Timeline export (editor): x264 speed/quality, the stall watchdog, exports per user at once.
EXPORT_X264_PRESET = env.str("EXPORT_X264_PRESET", default="veryfast")
EXPORT_CRF = env.int("EXPORT_CRF", default=20)
EXPORT_STALL_TIMEOUT_S = env.int("EXPORT_STALL_TIMEOUT_S", default=60)
EXPORT_MAX_ACTIVE = env.int("EXPORT_MAX_ACTIVE", default=2)
# A running export silent this long has lost its worker: the beat sweeper fails it.
EXPORT_SWEEP_AFTER_S = env.int("EXPORT_SWEEP_AFTER_S", default=300)

# --- Providers -------------------------------------------------------------------------
FAL_KEY = env.str("FAL_KEY", default="")
FAL_QUEUE_URL = env.str("FAL_QUEUE_URL", default="https://queue.fal.run")
# fal storage (input images are uploaded here before submit, as fal's own clients do).
FAL_REST_URL = env.str("FAL_REST_URL", default="https://rest.fal.ai")
# fal platform API: model pricing and the request listing that reconciles a lost submit.
FAL_API_URL = env.str("FAL_API_URL", default="https://api.fal.ai")
# fal's webhook signing keys (ED25519, JWKS), cached for FAL_JWKS_CACHE_S.
FAL_JWKS_URL = env.str("FAL_JWKS_URL", default="https://rest.alpha.fal.ai/.well-known/jwks.json")
FAL_JWKS_CACHE_S = env.int("FAL_JWKS_CACHE_S", default=86400)
# How long an image uploaded to fal storage is reused before it is uploaded again.
FAL_UPLOAD_REUSE_S = env.int("FAL_UPLOAD_REUSE_S", default=7 * 86400)
REPLICATE_API_TOKEN = env.str("REPLICATE_API_TOKEN", default="")
REPLICATE_API_URL = env.str("REPLICATE_API_URL", default="https://api.replicate.com/v1")
# Replicate's webhook signing secret (whsec_…); blank: fetched from the API and cached.
REPLICATE_WEBHOOK_SECRET = env.str("REPLICATE_WEBHOOK_SECRET", default="")
# Webhooks whose timestamp is further than this from now are refused (replays).
WEBHOOK_TOLERANCE_S = env.int("WEBHOOK_TOLERANCE_S", default=300)
# Webhooks (replays included) trigger at most one provider status call per job this often.
WEBHOOK_POLL_MIN_INTERVAL_S = env.float("WEBHOOK_POLL_MIN_INTERVAL_S", default=5.0)
# Daily refresh of provider prices from their pricing APIs (fal); 0 turns it off.
PRICE_REFRESH_INTERVAL_S = env.int("PRICE_REFRESH_INTERVAL_S", default=86400)
PROVIDER_HTTP_TIMEOUT_S = env.float("PROVIDER_HTTP_TIMEOUT_S", default=30.0)
# Your own GPUs: ComfyUI servers (comma separated base URLs); empty: the provider is not
# offered. Each job goes to the server with the shortest queue that has its nodes.
COMFYUI_URLS = [u.strip().rstrip("/") for u in env.list("COMFYUI_URLS", default=[]) if u.strip()]
# Our client_id on every server: the listener subscribes to the progress of prompts sent
# with it, and prompt ids are derived from it (give each Cutroom sharing a farm its own).
COMFYUI_CLIENT_ID = env.str("COMFYUI_CLIENT_ID", default="cutroom")
# Optional accounting: US dollars per GPU second of execution (from /history); blank: free.
COMFYUI_GPU_SECOND_USD = env.str("COMFYUI_GPU_SECOND_USD", default="")
# How long a server's /object_info (its nodes and model files) is trusted before re-asking.
COMFYUI_OBJECT_INFO_TTL_S = env.float("COMFYUI_OBJECT_INFO_TTL_S", default=60.0)
# A server silent this long has lost the jobs it held: they fail plainly instead of waiting.
COMFYUI_DOWN_AFTER_S = env.float("COMFYUI_DOWN_AFTER_S", default=120.0)
# An operator's own workflows (manage.py comfyui_add_workflow); blank: only the shipped ones.
COMFYUI_WORKFLOWS_DIR = env.str("COMFYUI_WORKFLOWS_DIR", default="")
# Public base URL the providers can reach for webhooks; blank disables webhooks (poll only).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="")
GENERATION_MAX_RESULT_MB = env.int("GENERATION_MAX_RESULT_MB", default=500)
# Whole-download deadline for a result file (the HTTP timeout is per read only).
GENERATION_DOWNLOAD_TIMEOUT_S = env.float("GENERATION_DOWNLOAD_TIMEOUT_S", default=600.0)
EXPENSIVE_JOB_USD = Decimal(env.str("EXPENSIVE_JOB_USD", default="1.00"))
# JSON object {"model_id": {"field": value}} that overrides catalog price figures.
GENERATION_PRICE_OVERRIDES = env.json("GENERATION_PRICE_OVERRIDES", default={})
# --- Generation limits and pipeline timing ---------------------------------------------
GENERATION_RATE = env.str("GENERATION_RATE", default="10/m")
GENERATION_COOLDOWN_S = env.int("GENERATION_COOLDOWN_S", default=2)
GENERATION_MAX_CONCURRENT = env.int("GENERATION_MAX_CONCURRENT", default=5)
GENERATION_MONTHLY_BUDGET_USD = Decimal(env.str("GENERATION_MONTHLY_BUDGET_USD", default="20"))
# Pipeline timing (see generation/services/scheduling.py): poll interval bounds, retry
# backoff base/cap and attempts, the claim a worker holds on a long step, and how late a
# live job must be before the sweeper re-dispatches it.
GENERATION_POLL_MIN_S = env.float("GENERATION_POLL_MIN_S", default=1.0)
GENERATION_POLL_MAX_S = env.float("GENERATION_POLL_MAX_S", default=20.0)
GENERATION_RETRY_BASE_S = env.float("GENERATION_RETRY_BASE_S", default=2.0)
GENERATION_RETRY_MAX_S = env.float("GENERATION_RETRY_MAX_S", default=120.0)
GENERATION_MAX_ATTEMPTS = env.int("GENERATION_MAX_ATTEMPTS", default=5)
GENERATION_LEASE_S = env.float("GENERATION_LEASE_S", default=60.0)
GENERATION_SWEEP_GRACE_S = env.float("GENERATION_SWEEP_GRACE_S", default=30.0)
GENERATION_SWEEP_INTERVAL_S = env.float("GENERATION_SWEEP_INTERVAL_S", default=60.0)
# The other beat intervals (project/celery.py: beat_schedule).
MEDIA_REQUEUE_INTERVAL_S = env.float("MEDIA_REQUEUE_INTERVAL_S", default=300.0)
UPLOAD_EXPIRE_INTERVAL_S = env.float("UPLOAD_EXPIRE_INTERVAL_S", default=3600.0)
EXPORT_SWEEP_INTERVAL_S = env.float("EXPORT_SWEEP_INTERVAL_S", default=60.0)
GENERATION_SWEEP_BATCH = env.int("GENERATION_SWEEP_BATCH", default=500)
# --- API and sign-in rate limits, client address, metrics, CORS ------------------------
API_RATE = env.str("API_RATE", default="120/m")
LOGIN_RATE_PER_USER = env.str("LOGIN_RATE_PER_USER", default="5/m")
LOGIN_RATE_PER_IP = env.str("LOGIN_RATE_PER_IP", default="30/m")
# How many proxies in front of the web server append to X-Forwarded-For (0: none, the
# direct peer is the client; 1 with the README's nginx). See project/client_ip.py.
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=0)
# django-ratelimit's key="ip" asks the same function as every other IP-keyed limit.
RATELIMIT_IP_META_KEY = "project.client_ip.client_ip"
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"

# --- Celery ----------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged only after it ran, so a killed worker's task is redelivered.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "media_library.tasks.*": {"queue": "media"},
    "editor.tasks.*": {"queue": "media"},
    "generation.tasks.render_local": {"queue": "media"},
}
# Longer than the longest job step (an export of a long timeline), or Redis redelivers
# a still-running task to a second worker.
CELERY_VISIBILITY_TIMEOUT_S = env.int("CELERY_VISIBILITY_TIMEOUT_S", default=4 * 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_S,
    # A web request enqueuing while Redis is unreachable fails in seconds (a 503).
    "socket_connect_timeout": 2,
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Security --------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    STORAGES["staticfiles"]["BACKEND"] = "whitenoise.storage.CompressedManifestStaticFilesStorage"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": [SELF, NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *_MEDIA_ORIGINS],
        "media-src": ["'self'", "blob:", *_MEDIA_ORIGINS],
        # 'self' covers this site's own ws:/wss: origin (CSP Level 3), nothing else.
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Logging ---------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_JSON = env.bool("LOG_JSON", default=not DEBUG)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "project.logging.RequestIdFilter"},
        # Secrets in URLs (webhook tokens, ?sig=, keys) never reach a log line.
        "redact": {"()": "project.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        },
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "redact"],
            "formatter": "json" if LOG_JSON else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Loggers that print request URLs also redact on the logger itself, so handlers
        # that are not ours (Django's DEBUG console, mail_admins, a test's caplog) get
        # redacted records too. uvicorn's CLI gives its loggers handlers of its own: these
        # entries replace them with ours (same format as every other line).
        "django.request": {"filters": ["redact"]},
        "django.server": {
            "handlers": ["console"],
            "filters": ["redact"],
            "level": "INFO",
            "propagate": False,
        },
        "uvicorn": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"filters": ["redact"], "level": "INFO"},
        "uvicorn.access": {
            "handlers": ["console"],
            "filters": ["redact"],
            "level": "INFO",
            "propagate": False,
        },
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(dsn=SENTRY_DSN, send_default_pii=False, traces_sample_rate=0.0)
LOGIN_URL_PATH = "/accounts/login/"

# Test databases: one per CUTROOM_TEST_SLOT so parallel test runs (and the Celery worker
# subprocess that integration tests start) never share a database file or name.
TEST_SLOT = env.str("CUTROOM_TEST_SLOT", default="")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test{TEST_SLOT}.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_cutroom{TEST_SLOT}"}
