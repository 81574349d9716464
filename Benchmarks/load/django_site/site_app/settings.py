"""The minimal Django site of the load test: one login view, plain, with django-defender, or with django-axes.

SITE_MODE = plain | defender | defender-nolog | axes; SITE_HASH = cheap (MD5) | realistic (Django's default
PBKDF2); SITE_DB = the SQLite file; DEFENDER_REDIS_URL for django-defender.
"""
import os

MODE = os.environ.get("SITE_MODE", "plain")
BASE = os.path.dirname(os.path.abspath(__file__))
SECRET_KEY = "load-test-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "site_app.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("SITE_DB", os.path.join(BASE, "site.sqlite3"))}}
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware", "django.contrib.auth.middleware.AuthenticationMiddleware"]
LOGGING = {"version": 1, "disable_existing_loggers": True, "root": {"level": "ERROR"}}
if os.environ.get("SITE_HASH", "cheap") == "cheap":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The same rules as the Swift demo: limit 3, 300 s, IP or username, client IP from X-Forwarded-For.
if MODE.startswith("defender"):
    INSTALLED_APPS.append("defender")
    DEFENDER_REDIS_URL = os.environ.get("DEFENDER_REDIS_URL", "redis://localhost:6379/0")
    DEFENDER_BEHIND_REVERSE_PROXY = True
    DEFENDER_LOGIN_FAILURE_LIMIT = 3
    DEFENDER_COOLOFF_TIME = 300
    DEFENDER_STORE_ACCESS_ATTEMPTS = MODE != "defender-nolog"
elif MODE == "axes":
    INSTALLED_APPS.append("axes")
    MIDDLEWARE.append("axes.middleware.AxesMiddleware")
    AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
    AXES_FAILURE_LIMIT = 4  # axes locks at the limit; defender one past it
    AXES_COOLOFF_TIME = 300 / 3600
    AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
    AXES_CLIENT_IP_CALLABLE = "site_app.views.client_ip"
    AXES_VERBOSE = False
