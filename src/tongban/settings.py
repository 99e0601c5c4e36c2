"""The one settings module. Everything is read from the environment (see docs/configuration.md).

Defaults give the embedded deployment: SQLite and files under ``var/``. PostgreSQL, Redis and S3
are switched on by variables.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.conf.locale import LANG_INFO
from django.utils.translation import gettext_lazy as _

from tongban.conf import ConfigError, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("TONGBAN_VAR_DIR", str(Path.cwd() / "var"))).resolve()

DEBUG = env_bool("TONGBAN_DEBUG", False)
_INSECURE_DEV_KEY = "insecure-development-key-change-me-0123456789abcdef"
SECRET_KEY = env_str("TONGBAN_SECRET_KEY", _INSECURE_DEV_KEY)
if SECRET_KEY == _INSECURE_DEV_KEY and env_bool("TONGBAN_PRODUCTION", False):
    raise ConfigError("TONGBAN_SECRET_KEY must be set when TONGBAN_PRODUCTION is true")
ALLOWED_HOSTS = env_list("TONGBAN_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("TONGBAN_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves Swagger UI from its own static files (no CDN on a government intranet)
    # core and domains, in dependency order
    "tongban.core",
    "tongban.catalog",
    "tongban.accounts",
    "tongban.seals",
    "tongban.licenses",
    "tongban.cases",
    "django_tasks",
    "django_tasks_db",  # the outbox: tasks are rows committed with the change they follow
    "oauth2_provider",  # OpenID Connect provider and OAuth2 server (django-oauth-toolkit)
    # channels
    "tongban.portal",
    "tongban.api",
    "tongban.backoffice",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tongban.core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tongban.accounts.sessions.SessionPolicyMiddleware",  # idle timeout, logout everywhere
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tongban.urls"
WSGI_APPLICATION = "tongban.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tongban.portal.context.portal",
            ],
        },
    }
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tongban.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("TONGBAN_DB_CONN_MAX_AGE", 600, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: local memory by default, Redis when REDIS_URL is set.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # One cache per process; large enough to hold every rendered guide of a city.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": env_int("TONGBAN_LOCAL_CACHE_ENTRIES", 20000, minimum=100)},
        }
    }

AUTH_USER_MODEL = "accounts.User"
# Argon2id first (RFC 9106, OWASP parameters: tongban.accounts.passwords); the others only to read
# hashes made before a switch (upgraded at the next login).
PASSWORD_HASHERS = [
    "tongban.accounts.passwords.Argon2idHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "tongban.accounts.passwords.ComplexityValidator"},  # 3 of 4 character classes
]

# Languages: Chinese by default; traditional Mongolian (vertical script) and English.
LANG_INFO["mn-mong"] = {
    "bidi": False,
    "code": "mn-mong",
    "name": "Mongolian (traditional script)",
    "name_local": "ᠮᠣᠩᠭᠣᠯ",
}
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [
    ("zh-hans", _("简体中文")),
    ("mn-mong", _("传统蒙古文")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TONGBAN_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("TONGBAN_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Files that must never be served publicly (uploads waiting for an operator's confirmation).
STORAGES["private"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(VAR_DIR / "private"), "base_url": None},
}
if env_str("TONGBAN_S3_BUCKET", ""):
    # S3-compatible object storage (MinIO, OSS, COS …) through django-storages, installed with
    # the "s3" extra. Chosen by variables only; the embedded default never needs it.
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("TONGBAN_S3_BUCKET", ""),
            "endpoint_url": env_str("TONGBAN_S3_ENDPOINT", "") or None,
            "access_key": env_str("TONGBAN_S3_ACCESS_KEY", ""),
            "secret_key": env_str("TONGBAN_S3_SECRET_KEY", ""),
        },
    }
    STORAGES["private"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **STORAGES["default"]["OPTIONS"],
            "location": "private",
            "default_acl": "private",
            "querystring_auth": True,
        },
    }
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Largest material a person may upload (checked by the cases domain, which names the field).
TONGBAN_MAX_UPLOAD_MB = env_int("TONGBAN_MAX_UPLOAD_MB", 20, minimum=1)

# Background work (django-tasks, database backend): a task is a row written in the transaction of
# the change it follows, so a crash never loses one. Run workers with `tongban db_worker`
# (PostgreSQL: several in parallel, SKIP LOCKED); `tongban serve` starts one beside the server.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
# A pending department dispatch this many seconds past its time is enqueued again by the sweep.
TONGBAN_DISPATCH_GRACE = env_int("TONGBAN_DISPATCH_GRACE", 300, minimum=10)
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("TONGBAN_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
LOGIN_URL = "portal:account_login"  # the admin keeps its own "admin:login"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"personal_data": {"()": "tongban.core.personal.PersonalDataLogFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("TONGBAN_LOG_LEVEL", "INFO")},
    "loggers": {"jieba": {"level": "WARNING"}},
}

# Platform facts
TONGBAN_SITE_NAME = env_str("TONGBAN_SITE_NAME", "通办 · 一体化在线政务服务平台")
TONGBAN_PUBLIC_URL = env_str("TONGBAN_PUBLIC_URL", "http://127.0.0.1:8000")
TONGBAN_HOME_REGION = env_str("TONGBAN_HOME_REGION", "150600")
TONGBAN_SEARCH_PAGE_SIZE = env_int("TONGBAN_SEARCH_PAGE_SIZE", 20, minimum=1)
TONGBAN_PRODUCTION = env_bool("TONGBAN_PRODUCTION", False)

# Persons' accounts: message gateways, verification providers, session idle timeouts
TONGBAN_SMS_BACKEND = env_str("TONGBAN_SMS_BACKEND", "local")
TONGBAN_EMAIL_BACKEND = env_str("TONGBAN_EMAIL_BACKEND", "local")
TONGBAN_REAL_NAME_PROVIDER = env_str("TONGBAN_REAL_NAME_PROVIDER", "local")
TONGBAN_FACE_PROVIDER = env_str("TONGBAN_FACE_PROVIDER", "local")
TONGBAN_SESSION_IDLE_MINUTES = env_int("TONGBAN_SESSION_IDLE_MINUTES", 30, minimum=1)
TONGBAN_STAFF_SESSION_IDLE_MINUTES = env_int("TONGBAN_STAFF_SESSION_IDLE_MINUTES", 15, minimum=1)

# --- OpenID Connect provider and OAuth2 server (django-oauth-toolkit) ----------------------------
# Department systems log people in through Tongban (authorization code + PKCE) and call the API
# with client credentials; see docs/integration.md. Scopes, claims and the per-client policy are in
# tongban.accounts.oidc. ID tokens are signed RS256 (docs/adr/0004-oidc-signing.md).


def _oidc_private_key(production: bool) -> str:
    """The RS256 signing key: TONGBAN_OIDC_RSA_PRIVATE_KEY (or ``_FILE``); in production it must
    be given; otherwise one is generated once under var/ (mode 0600) so restarts keep it."""
    import os
    import tempfile

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = env_str("TONGBAN_OIDC_RSA_PRIVATE_KEY", "").replace("\\n", "\n")
    if not pem:
        if production:
            raise ConfigError(
                "TONGBAN_OIDC_RSA_PRIVATE_KEY (or _FILE) must be set "
                "when TONGBAN_PRODUCTION is true"
            )
        path = VAR_DIR / "oidc-rsa-private.pem"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            data = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".oidc-key-")  # mode 0600
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.link(tmp, path)  # atomic; another process that got there first wins
            except FileExistsError:
                pass
            finally:
                os.unlink(tmp)
        pem = path.read_text(encoding="ascii")
    try:
        loaded = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"TONGBAN_OIDC_RSA_PRIVATE_KEY: not a PEM private key ({exc})") from exc
    if not isinstance(loaded, rsa.RSAPrivateKey) or loaded.key_size < 2048:
        raise ConfigError("TONGBAN_OIDC_RSA_PRIVATE_KEY: must be an RSA key of at least 2048 bits")
    return pem


_PRODUCTION = env_bool("TONGBAN_PRODUCTION", False)
# DOT's own model, named explicitly because migrations that point at it (accounts.ClientPolicy)
# refer to this swappable setting. Not swapped: policy lives in ClientPolicy, one-to-one.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _oidc_private_key(_PRODUCTION),
    # After a key rotation the previous key stays published in the JWKS until its tokens expire.
    "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [
        pem.replace("\\n", "\n") for pem in [env_str("TONGBAN_OIDC_RSA_PREVIOUS_KEY", "")] if pem
    ],
    "OIDC_ISS_ENDPOINT": env_str("TONGBAN_OIDC_ISSUER", TONGBAN_PUBLIC_URL.rstrip("/")),
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    # Log out without asking when the RP's id_token_hint belongs to the signed-in person.
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "PKCE_REQUIRED": True,
    "SCOPES_BACKEND_CLASS": "tongban.accounts.oidc.TongbanScopes",  # scopes + Chinese descriptions
    "OAUTH2_VALIDATOR_CLASS": "tongban.accounts.oidc.TongbanOAuth2Validator",
    "APPLICATION_ADMIN_CLASS": "tongban.accounts.admin_clients.TongbanApplicationAdmin",
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("TONGBAN_OAUTH_ACCESS_TOKEN_SECONDS", 600, minimum=60),
    "ID_TOKEN_EXPIRE_SECONDS": env_int("TONGBAN_OIDC_ID_TOKEN_SECONDS", 600, minimum=60),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env_int(
        "TONGBAN_OAUTH_REFRESH_TOKEN_SECONDS", 8 * 3600, minimum=600
    ),
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REQUEST_APPROVAL_PROMPT": "auto",
    "CLIENT_SECRET_HASHER": "default",  # secrets stored hashed (PASSWORD_HASHERS[0])
    "ALLOWED_REDIRECT_URI_SCHEMES": env_list(
        "TONGBAN_OIDC_REDIRECT_SCHEMES", ["https"] if _PRODUCTION else ["http", "https"]
    ),
    # RFC 9700 (OAuth 2.0 Security BCP): no implicit or password grant, S256 only, bearer tokens
    # only in the Authorization header, tokens stored as digests only, iss in the auth response.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
}
