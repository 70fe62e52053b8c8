"""ContentOps settings: one module, driven by environment variables (DESIGN.md §3).

Nothing set gives the embedded defaults (SQLite under var/, local-memory cache, inline background
work, offline LLM, file email). DATABASE_URL, REDIS_URL, CELERY_BROKER_URL, EMAIL_URL and the
OPENAI_* / AZURE_OPENAI_* variables switch each concern to a real service.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("CONTENTOPS_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be 'development' or 'production', not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
# The development key is public (it is in this file): with it anyone can forge signed values (sessions,
# email tracking links). Only a DEBUG development run may use it; anything else needs a real secret.
DEVELOPMENT_SECRET_KEY = "django-insecure-contentops-development-only-key"  # noqa: S105 - public on purpose
SECRET_KEY = env.str("SECRET_KEY", default="" if PRODUCTION else DEVELOPMENT_SECRET_KEY)
if PRODUCTION and not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value when DEBUG is off (the development default is public); "
        'e.g. SECRET_KEY="$(python -c \'import secrets; print(secrets.token_urlsafe(50))\')"'
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["*"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://localhost:8000")

INSTALLED_APPS = [
    # Django's admin on ContentOps' own site (config/admin_site.py): the dashboard, job pages, LLM task tools.
    "config.apps.ContentOpsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_celery_beat",
    "django_prometheus",
    "anymail",
    "config",
    "llm",
    "catalog",
    "profiles",
    "emails",
    "batches",
]

MIDDLEWARE = [
    # Request counts and latencies per view for /metrics (django-prometheus: first and last in the chain).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files served by the app itself (compressed, hashed names when DEBUG is off): no /static/ 404s
    # behind gunicorn without a web server in front.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A request id (the caller's X-Request-ID, else a new one) bound to every log line of the request.
    "config.logging.RequestIdMiddleware",
    # django-csp's, its policy built once per process (config/middleware.py).
    "config.middleware.CSPMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    # Under /api/: body caps (JSON 413), clean query strings, and every error answer as JSON.
    "config.api.middleware.ApiBoundaryMiddleware",
    # Django's session, authentication and messages middleware, skipped for an /api/ call that brings a
    # token or an API key and no cookie (config/middleware.py): it needs none of them.
    "config.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "config.middleware.AuthenticationMiddleware",
    "config.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.PrometheusAfterMiddleware",  # django-prometheus', its labelled counters kept
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'contentops.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the demo's threads and a runserver share the file without "locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The API's hot reads compile their SQL once per thread for each distinct query (config/compiled.py).
COMPILED_QUERIES = env.bool("COMPILED_QUERIES", default=True)
COMPILED_QUERIES_MAX = env.int("COMPILED_QUERIES_MAX", default=512)

# --- cache (also holds the LLM cache, shared limits and breaker state) ------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="contentops"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "contentops",
            "OPTIONS": {"MAX_ENTRIES": env.int("OPENAI_CACHE_MAX_SIZE", default=10000)},
        }
    }

# --- background work --------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# Without a broker every task runs inline, in the process that enqueued it.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=55 * 60)
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# django-celery-beat's DatabaseScheduler behind a lease: a second beat idles until the first one's
# lease (renewed while it ticks) expires, so periodic sends are never doubled (config/beat.py).
CELERY_BEAT_SCHEDULER = "config.beat:LeasedDatabaseScheduler"
BEAT_LEASE_TTL_S = env.float("BEAT_LEASE_TTL_S", default=60.0)
# How long the per-period record of each periodic run is kept (config.periodic.periodic_once).
PERIODIC_RUN_RETENTION_DAYS = env.int("PERIODIC_RUN_RETENTION_DAYS", default=14)
CELERY_TIMEZONE = "UTC"

# --- email ------------------------------------------------------------------------------------
EMAIL_FILE_PATH = str(VAR_DIR / "outbox")  # where the file backend (the embedded default) writes
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    # An ESP through django-anymail, e.g. EMAIL_BACKEND=anymail.backends.postmark.EmailBackend and its
    # keys in ANYMAIL (JSON); the file outbox otherwise.
    EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
# django-anymail: ESP settings (JSON) and the shared secret its tracking webhooks (/e/anymail/...)
# require as HTTP basic auth ("user:password"); bounces and complaints become suppressions.
ANYMAIL = {**env.json("ANYMAIL", default={}), "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default="")}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ContentOps <no-reply@contentops.local>")

# --- auth, i18n, static -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# `collectstatic` writes here (deploy steps and .ci/run); whitenoise serves it.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "config" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # DEBUG off: gzip/brotli copies and content-hashed names (cached forever by browsers), from the
    # manifest `collectstatic` wrote; DEBUG on: files straight from the apps, as runserver does.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)

# --- API --------------------------------------------------------------------------------------
# An API key's or token's row (with its user) is remembered this many seconds per process, saving a
# query on every request; revoking a key, deleting a token or deactivating a user takes effect
# within it (0: look up on every request).
API_AUTH_CACHE_S = env.float("API_AUTH_CACHE_S", default=2.0)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.api.authentication.APIKeyAuthentication",
        "config.api.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    # Every answer is JSON (no browsable HTML API); parsers cap depth and size and clean text (config/api).
    "DEFAULT_RENDERER_CLASSES": ["config.api.renderers.JSONRenderer"],
    # DRF's negotiation, answered without parsing for the usual `Accept: */*` (config/api/negotiation.py).
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.api.negotiation.ContentNegotiation",
    "DEFAULT_PARSER_CLASSES": [
        "config.api.parsers.JSONParser",
        "config.api.parsers.FormParser",
        "config.api.parsers.MultiPartParser",
    ],
    # Views opt in with `throttle_scope`; rates are API_THROTTLE_RATES, counted in the default cache (Redis).
    "DEFAULT_THROTTLE_CLASSES": ["config.api.throttling.ScopedRateThrottle"],
}
# Deepest JSON nesting a request body may have (deeper: 400 `json_too_deep`).
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
# Requests per client (user, else IP address) for the throttled scopes: "N/second|minute|hour|day".
API_THROTTLE_RATES = {
    "login": env.str("API_THROTTLE_LOGIN", default="10/minute"),  # admin login attempts, per IP address
    "token": env.str("API_THROTTLE_TOKEN", default="10/minute"),  # POST /api/v1/auth/token, per IP address
    "upload": env.str("API_THROTTLE_UPLOAD", default="30/minute"),  # file uploads and imports, per user
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ContentOps API",
    "DESCRIPTION": "LLM content operations: product content, profiles and job matching, emails, batches.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field name get names of their own (else drf-spectacular warns, and
    # `check --deploy` with it).
    "ENUM_NAME_OVERRIDES": {
        "EmailKindEnum": "emails.models.EmailKind",
        "EmailStatusEnum": "emails.models.EmailStatus",
        "ProfileLanguageEnum": [("en", "English"), ("ja", "Japanese")],
        "EmailLanguageEnum": ["en", "ja"],
        "FeedbackReasonEnum": "profiles.models.JobScore.FeedbackReason",
    },
    # Every operation documents the error answers it can give, in the one error shape (config/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.postprocess_error_responses",
    ],
}

# --- security (the production profile passes `check --deploy` cleanly) -----------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): the admin and Swagger UI load scripts only from our own static files
# (the sidecar; Swagger's initializer is a separate script, config.urls); Swagger UI and the admin set inline
# styles, and Swagger shows data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Permissions-Policy (config.middleware): no page of ours uses these browser features.
PERMISSIONS_POLICY = env.str(
    "PERMISSIONS_POLICY",
    default="accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), browsing-topics=()",
)
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Logs: structlog over the standard library (config/logging.py). Every line carries the request id
# (X-Request-ID) or the Celery task id and name. LOG_FORMAT=json prints one JSON object per line (the
# default when DEBUG is off); `console` prints readable, coloured lines (the default under DEBUG).
LOG_FORMAT = env.str("LOG_FORMAT", default="console" if DEBUG else "json")
if LOG_FORMAT not in {"console", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'console' or 'json', not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {"()": "config.logging.formatter", "json": LOG_FORMAT == "json"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    "loggers": {
        "contentops": {"level": env.str("CONTENTOPS_LOG_LEVEL", default="INFO"), "propagate": True},
    },
}

# --- operations: /metrics (config/metrics.py) ---------------------------------------------------
# Prometheus scrapes /metrics with `Authorization: Bearer <METRICS_TOKEN>`; staff signed in to the admin
# and API keys with the staff scope may read it too. Empty: no bearer token is accepted.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
PROMETHEUS_EXPORT_MIGRATIONS = False
# /healthz answers from its last probe for this many seconds (per process; 0: probe on every request), so
# a load balancer polling it, or a load test, costs one database, cache and broker round each.
HEALTHZ_CACHE_S = env.float("HEALTHZ_CACHE_S", default=2.0)
# /healthz answers within this many seconds: a probe still waiting (a hung dependency) counts as down.
HEALTHZ_TIMEOUT_S = env.float("HEALTHZ_TIMEOUT_S", default=3.0)

# --- admin (config/admin_site.py) ------------------------------------------------------------------
# Without a broker, long admin actions (a batch: submit, poll, ingest) run in a thread of the web
# process while the progress page polls its JSON status; false runs them inside the request (tests).
ADMIN_BACKGROUND_THREADS = env.bool("ADMIN_BACKGROUND_THREADS", default=True)
# How often the embedded runner polls the provider for a batch launched from the admin.
ADMIN_BATCH_POLL_INTERVAL_S = env.float("ADMIN_BATCH_POLL_INTERVAL_S", default=5.0)

# --- product content (catalog/products) --------------------------------------------------------------
# Background generation that met an unavailable provider queues its deferred locales again this many
# seconds later, at most this many times (then the hourly fallback regeneration takes what is left).
PRODUCT_DEFER_RETRY_S = env.int("PRODUCT_DEFER_RETRY_S", default=300)
PRODUCT_DEFER_RETRIES = env.int("PRODUCT_DEFER_RETRIES", default=6)

# --- job feeds (the guarded fetcher; see catalog/jobs/fetch.py) ------------------------------
FEED_ALLOWED_HOSTS = env.list("FEED_ALLOWED_HOSTS", default=[])
FEED_MAX_BYTES = env.int("FEED_MAX_BYTES", default=5 * 1024 * 1024)
FEED_MAX_REDIRECTS = env.int("FEED_MAX_REDIRECTS", default=5)
FEED_CONNECT_TIMEOUT = env.float("FEED_CONNECT_TIMEOUT", default=5.0)
FEED_READ_TIMEOUT = env.float("FEED_READ_TIMEOUT", default=15.0)
FEED_TOTAL_TIMEOUT = env.float("FEED_TOTAL_TIMEOUT", default=30.0)
# Directories a `file://` feed may read from (the bundled demo feeds by default).
FEED_FILE_ROOTS = env.list("FEED_FILE_ROOTS", default=[str(BASE_DIR / "catalog" / "jobs" / "demo_data" / "feeds")])

# --- resumes (profiles/extract.py: extraction runs in a separate, limited process) --------------
RESUME_MAX_BYTES = env.int("RESUME_MAX_BYTES", default=5 * 1024 * 1024)
RESUME_EXTRACT_TIMEOUT_SECONDS = env.float("RESUME_EXTRACT_TIMEOUT_SECONDS", default=15.0)
RESUME_EXTRACT_MEMORY_MB = env.int("RESUME_EXTRACT_MEMORY_MB", default=512)
RESUME_MAX_PAGES = env.int("RESUME_MAX_PAGES", default=30)
RESUME_MAX_TEXT_CHARS = env.int("RESUME_MAX_TEXT_CHARS", default=30000)
RESUME_ZIP_MAX_ENTRIES = env.int("RESUME_ZIP_MAX_ENTRIES", default=500)
RESUME_ZIP_MAX_UNCOMPRESSED_BYTES = env.int("RESUME_ZIP_MAX_UNCOMPRESSED_BYTES", default=50 * 1024 * 1024)
RESUME_ZIP_MAX_RATIO = env.int("RESUME_ZIP_MAX_RATIO", default=200)
# Below this resume-likeness (0..1, profiles/resume_heuristics/likeness.py) an upload is refused: 422 not_a_resume.
RESUME_MIN_CONFIDENCE = env.float("RESUME_MIN_CONFIDENCE", default=0.3)

# --- job matching and daily digests (profiles, emails) ------------------------------------------
MATCH_LLM_TOP_K = env.int("MATCH_LLM_TOP_K", default=20)
MATCH_MIN_SCORE = env.float("MATCH_MIN_SCORE", default=60.0)
MATCH_PREFILTER_MIN_SCORE = env.float("MATCH_PREFILTER_MIN_SCORE", default=45.0)
MATCH_LLM_DAILY_LIMIT = env.int("MATCH_LLM_DAILY_LIMIT", default=20)
# The model judges only what the rules are unsure of (profiles/matching/services/scoring.py): a
# candidate the prefilter scores below the first is a weak match, at or above the second a clear
# one; both keep the rules' score (flagged). Calibrated on the golden set (README: matching_eval).
MATCH_LLM_MIN_PREFILTER_SCORE = env.float("MATCH_LLM_MIN_PREFILTER_SCORE", default=70.0)
MATCH_PREFILTER_CONFIDENT_SCORE = env.float("MATCH_PREFILTER_CONFIDENT_SCORE", default=90.0)
MATCH_FIRST_RUN_DAYS = env.int("MATCH_FIRST_RUN_DAYS", default=7)
MATCH_SCORE_RETENTION_DAYS = env.int("MATCH_SCORE_RETENTION_DAYS", default=30)
MATCH_LLM_CHUNK_PEOPLE = env.int("MATCH_LLM_CHUNK_PEOPLE", default=50)
MATCH_COMMIT_GRACE_SECONDS = env.int("MATCH_COMMIT_GRACE_SECONDS", default=0)
# The hourly scoring run holds a lease (config.leases) that it renews while it works and releases
# when it ends: a second run meanwhile skips, and a run that died blocks the next one for at most this.
MATCH_RUN_LEASE_S = env.int("MATCH_RUN_LEASE_S", default=5 * 60)
DIGEST_LOCAL_HOUR = env.int("DIGEST_LOCAL_HOUR", default=7)
DIGEST_WINDOW_HOURS = env.int("DIGEST_WINDOW_HOURS", default=3)
DIGEST_TOP_JOBS = env.int("DIGEST_TOP_JOBS", default=5)
EMAIL_TRACKING_MAX_AGE_DAYS = env.int("EMAIL_TRACKING_MAX_AGE_DAYS", default=365)
# Unsent digests younger than this are emailed by `emails.digest_emails_send_due`; older ones never are.
DIGEST_EMAIL_MAX_AGE_HOURS = env.int("DIGEST_EMAIL_MAX_AGE_HOURS", default=24)

# --- weekly job emails (emails/jobmail; seed 000's setting names) ------------------------------
# How long a job's generated line (shared by everyone who gets the job) stays cached; the key holds
# the job's facts, so an edited posting gets a new line. Rule-based lines are kept 10 minutes only.
EMAIL_GENERATION_CACHE_TTL = env.int("EMAIL_GENERATION_CACHE_TTL", default=7 * 24 * 3600)
# On-demand generations (POST /api/v1/emails/generate) per minute, across processes; bulk runs are
# paced by the llm layer's shared limits instead.
EMAIL_GENERATION_RATE_LIMIT = env.int("EMAIL_GENERATION_RATE_LIMIT", default=100)
# People per step of a bulk run: selected, generated and stored together (one progress update each).
# Each step ends by waiting for its last answers with the provider's pipe draining, so fewer, larger
# steps finish sooner: emails_benchmark's 1,000 emails took 15.5 s in steps of 200, 14.4 s in 500.
EMAIL_GENERATION_BATCH_SIZE = env.int("EMAIL_GENERATION_BATCH_SIZE", default=500)
# Mock mode: no provider call at all; rule-based words, subject prefixed "[MOCK]", the rest real.
EMAIL_GENERATION_MOCK_MODE = env.bool("EMAIL_GENERATION_MOCK_MODE", default=False)
JOB_EMAIL_SECTION_SIZES = {
    "editorial_picks": env.int("JOB_EMAIL_EDITORIAL_PICKS", default=5),
    "top_recommendations": env.int("JOB_EMAIL_TOP_RECOMMENDATIONS", default=5),
    "personalized_picks": env.int("JOB_EMAIL_PERSONALIZED_PICKS", default=10),
    "new_arrivals": env.int("JOB_EMAIL_NEW_ARRIVALS", default=10),
    "popular_jobs": env.int("JOB_EMAIL_POPULAR_JOBS", default=5),
    "you_might_like": env.int("JOB_EMAIL_YOU_MIGHT_LIKE", default=5),
}
# The weekly send: hourly, for people whose local time is this weekday (0 = Monday) and hour window.
JOB_EMAIL_LOCAL_WEEKDAY = env.int("JOB_EMAIL_LOCAL_WEEKDAY", default=0)
JOB_EMAIL_LOCAL_HOUR = env.int("JOB_EMAIL_LOCAL_HOUR", default=8)
JOB_EMAIL_WINDOW_HOURS = env.int("JOB_EMAIL_WINDOW_HOURS", default=3)
JOB_EMAIL_CANDIDATE_DAYS = env.int("JOB_EMAIL_CANDIDATE_DAYS", default=30)  # jobs this recent (or editorial/popular)
JOB_EMAIL_HISTORY_DAYS = env.int("JOB_EMAIL_HISTORY_DAYS", default=90)  # clicks that count as history
JOB_EMAIL_PREFILTER_TOP_K = env.int("JOB_EMAIL_PREFILTER_TOP_K", default=25)  # best prefilter fits per person
JOB_EMAIL_POPULAR_APPLICATION_WEIGHT = env.int("JOB_EMAIL_POPULAR_APPLICATION_WEIGHT", default=3)

# --- sales leads (catalog/leads: job postings as leads for the services we sell) ------------------
# Qualification: a score at or above this is "qualified" for the rule-based fallback (models give a verdict).
LEADS_QUALIFY_MIN_SCORE = env.int("LEADS_QUALIFY_MIN_SCORE", default=60)
# The daily funnel: conversational analysis + outreach draft for at most this many top leads a day.
LEADS_TOP_N = env.int("LEADS_TOP_N", default=20)
# At most this many new postings become leads (and get qualified) per funnel run.
LEADS_FUNNEL_MAX_NEW = env.int("LEADS_FUNNEL_MAX_NEW", default=5000)
# A lead whose task runs failed for good this many times is left out of the funnel.
LEADS_MAX_FAILURES = env.int("LEADS_MAX_FAILURES", default=3)

# --- data dictionaries (catalog/datasets: seed 001's field descriptions for any dataset) -----------
# Uploads larger than MAX_BYTES are refused (413); at most MAX_ROWS records are read and MAX_FIELDS
# fields described per dictionary; SAMPLE_VALUES distinct values per field go to the model. A run of
# more than INLINE_MAX_FIELDS fields is queued for a worker when there is a broker (202 + progress).
DATA_DICTIONARY_MAX_BYTES = env.int("DATA_DICTIONARY_MAX_BYTES", default=20 * 1024 * 1024)
DATA_DICTIONARY_MAX_ROWS = env.int("DATA_DICTIONARY_MAX_ROWS", default=10_000)
DATA_DICTIONARY_MAX_FIELDS = env.int("DATA_DICTIONARY_MAX_FIELDS", default=2_000)
DATA_DICTIONARY_SAMPLE_VALUES = env.int("DATA_DICTIONARY_SAMPLE_VALUES", default=5)
DATA_DICTIONARY_INLINE_MAX_FIELDS = env.int("DATA_DICTIONARY_INLINE_MAX_FIELDS", default=100)

# --- API body caps (config/api/middleware.py) --------------------------------------------------------
# JSON and form bodies are capped at DATA_UPLOAD_MAX_MEMORY_SIZE; a multipart upload at this many bytes
# (above every upload endpoint's own cap plus the multipart framing). Larger: a JSON 413, unread.
API_MAX_UPLOAD_BYTES = env.int(
    "API_MAX_UPLOAD_BYTES", default=max(RESUME_MAX_BYTES, DATA_DICTIONARY_MAX_BYTES) + 1024 * 1024
)

# --- provider batches -----------------------------------------------------------------------------
# BATCH_MAX_RESUBMITS        automatic resubmissions of an item that can clear (expired, 5xx, ...)
# BATCH_POLL_MIN_INTERVAL_S  a batch is polled at most once per this many seconds
# BATCH_INGEST_CHUNK         result lines handled per transaction while ingesting
# BATCH_CREATE_MAX_ATTEMPTS  provider job creations tried per part (Azure's token_limit_exceeded)
# BATCH_CREATE_BACKOFF_S     first wait before creating a job again; doubles per attempt, capped
# BATCH_MAX_LINES / _BYTES   lower the provider's per-file limits (None: the provider's own)
# BATCH_DIR                  where JSONL files live (tests point it at a temporary folder)
BATCH_MAX_RESUBMITS = env.int("BATCH_MAX_RESUBMITS", default=2)
BATCH_POLL_MIN_INTERVAL_S = env.float("BATCH_POLL_MIN_INTERVAL_S", default=60.0)
BATCH_INGEST_CHUNK = env.int("BATCH_INGEST_CHUNK", default=1000)
BATCH_CREATE_MAX_ATTEMPTS = env.int("BATCH_CREATE_MAX_ATTEMPTS", default=5)
BATCH_CREATE_BACKOFF_S = env.float("BATCH_CREATE_BACKOFF_S", default=60.0)
BATCH_CREATE_BACKOFF_MAX_S = env.float("BATCH_CREATE_BACKOFF_MAX_S", default=1800.0)
BATCH_MAX_LINES = env.int("BATCH_MAX_LINES", default=None)
BATCH_MAX_BYTES = env.int("BATCH_MAX_BYTES", default=None)
BATCH_DIR = VAR_DIR / "batches"
# A batch whose estimated cost (at batch prices) is above this many USD waits "awaiting approval"
# until a staff member approves it in the admin; 0 asks for approval of every paid batch.
BATCH_APPROVAL_USD = env.float("BATCH_APPROVAL_USD", default=5.0)
# The reconciler (every 5 minutes) takes batches untouched this long: built but never submitted,
# submissions interrupted, finished but never ingested.
BATCH_RECONCILE_GRACE_S = env.float("BATCH_RECONCILE_GRACE_S", default=300.0)

# --- LLM layer (DESIGN.md §4; names from seed 001) ----------------------------------------------
# Provider: explicit LLM_PROVIDER wins; otherwise Azure when AZURE_OPENAI_ENDPOINT and a key are set
# (AZURE_OPENAI_API_KEY, else OPENAI_API_KEY as seed 002 has it; the deployment is the model),
# `compatible` when OPENAI_BASE_URL is set, `openai` with a key, and `offline` with nothing.
LLM_PROVIDER = env.str("LLM_PROVIDER", default="")
OPENAI_ENABLED = env.bool("OPENAI_ENABLED", default=True)
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
OPENAI_MODEL = env.str("OPENAI_MODEL", default="gpt-4o-mini")
OPENAI_REQUEST_TIMEOUT = env.float("OPENAI_REQUEST_TIMEOUT", default=60.0)
OPENAI_CONNECTION_TIMEOUT = env.float("OPENAI_CONNECTION_TIMEOUT", default=10.0)
OPENAI_CACHE_ENABLED = env.bool("OPENAI_CACHE_ENABLED", default=True)
OPENAI_CACHE_TTL = env.int("OPENAI_CACHE_TTL", default=3600)
OPENAI_CACHE_MAX_SIZE = env.int("OPENAI_CACHE_MAX_SIZE", default=10000)
OPENAI_MAX_RETRY_ATTEMPTS = env.int("OPENAI_MAX_RETRY_ATTEMPTS", default=3)
OPENAI_RETRY_MULTIPLIER = env.float("OPENAI_RETRY_MULTIPLIER", default=2.0)
OPENAI_RETRY_MIN_WAIT = env.float("OPENAI_RETRY_MIN_WAIT", default=4.0)
OPENAI_RETRY_MAX_WAIT = env.float("OPENAI_RETRY_MAX_WAIT", default=30.0)
OPENAI_MAX_CONCURRENT_REQUESTS = env.int("OPENAI_MAX_CONCURRENT_REQUESTS", default=10)
OPENAI_RATE_LIMIT_RPM = env.int("OPENAI_RATE_LIMIT_RPM", default=0)  # 0: adapt from the provider
# The provider counts a request when it arrives, a little after it was admitted here: our request
# window is this much longer than the provider's so the two do not overlap (else a request admitted
# just as the oldest left our window can reach the provider before the oldest left its window, and be
# refused). It costs this share of a window at full speed (25 ms of a 1-second window: 2.5 %).
# Half of it is for the process to send the request, the other half for the way to the provider: a
# request sent later than that after its admission is counted from when it left (llm/limits.py).
OPENAI_RATE_TRANSIT_MS = env.int("OPENAI_RATE_TRANSIT_MS", default=25)
OPENAI_RATE_LIMIT_TPM = env.int("OPENAI_RATE_LIMIT_TPM", default=0)
OPENAI_METRICS_ENABLED = env.bool("OPENAI_METRICS_ENABLED", default=True)
# Ledger rows written outside a transaction commit without waiting for PostgreSQL's WAL flush
# (see llm/ledger.py); false: every ledger commit waits.
LLM_LEDGER_ASYNC_COMMIT = env.bool("LLM_LEDGER_ASYNC_COMMIT", default=True)
OPENAI_CIRCUIT_FAILURE_THRESHOLD = env.int("OPENAI_CIRCUIT_FAILURE_THRESHOLD", default=3)
OPENAI_CIRCUIT_RESET_TIMEOUT = env.float("OPENAI_CIRCUIT_RESET_TIMEOUT", default=60.0)
AZURE_OPENAI_ENDPOINT = env.str("AZURE_OPENAI_ENDPOINT", default="")
AZURE_OPENAI_API_KEY = env.str("AZURE_OPENAI_API_KEY", default="")
AZURE_OPENAI_DEPLOYMENT_NAME = env.str("AZURE_OPENAI_DEPLOYMENT_NAME", default="")
AZURE_OPENAI_API_VERSION = env.str("AZURE_OPENAI_API_VERSION", default="2024-10-21")  # the latest GA
# A request with a person waiting gets the flagged rule-based fallback when the provider fails; false
# (or `fallback=false` on the request) answers 429 (rate limited, with Retry-After) or 503 instead.
LLM_FALLBACK_FOR_REQUESTS = env.bool("LLM_FALLBACK_FOR_REQUESTS", default=True)
# Spend per UTC day (the ledger's cost) that the dashboard measures against; a batch whose estimate
# would take the day over it is not submitted (it waits, built, for the next day or a higher budget).
# 0: no daily budget.
LLM_DAILY_BUDGET_USD = env.float("LLM_DAILY_BUDGET_USD", default=20.0)
# USD per million tokens (input, output); the Batch API costs half of these.
LLM_PRICES = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "offline": (0.0, 0.0),
}
LLM_BATCH_DISCOUNT = 0.5
# Input tokens the provider served from its prompt cache cost this share of the input price.
LLM_CACHED_INPUT_DISCOUNT = env.float("LLM_CACHED_INPUT_DISCOUNT", default=0.5)
# While Redis is unreachable each process runs on its own memory (llm/redis.py): cache reads miss,
# the breaker is per process, and each process takes 1/LLM_REDIS_DOWN_PROCESS_SHARE of the RPM, TPM
# and concurrency limits (at least 1 request at a time). Redis is looked at again every
# LLM_REDIS_RETRY_SECONDS, and its shared state is used as soon as it answers.
LLM_REDIS_DOWN_PROCESS_SHARE = env.int("LLM_REDIS_DOWN_PROCESS_SHARE", default=4)
LLM_REDIS_RETRY_SECONDS = env.float("LLM_REDIS_RETRY_SECONDS", default=5.0)
# A ledger row written while the caller is inside a transaction goes through a connection of its own
# (PostgreSQL), so a rolled-back domain transaction never takes its ledger rows with it.
LLM_LEDGER_OWN_CONNECTION = env.bool("LLM_LEDGER_OWN_CONNECTION", default=True)
