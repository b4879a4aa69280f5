"""kithmeet: an event-networking companion for meetups."""
import os

from flask import Flask

from . import config as config_module
from .requests import Request


def create_app(config=None, instance_path=None):
    """Build the app: defaults, then instance/config.py, then KITHMEET_* env, then `config`."""
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.request_class = Request  # malformed JSON bodies become a 400 bad_json everywhere
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_object(config_module.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    config_module.apply_environment(app.config, os.environ)
    if config:
        app.config.update(config)
    config_module.finalize(app)

    from .requests import refuse_nul

    app.before_request(refuse_nul)  # first: no hook or view ever queries with a NUL
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app):
    from . import csrf_tokens, database, link_cache, ratelimits, security, sessions, static_compression, static_files
    from .badges import answers as badge_answers
    from .extensions import csrf, db, limiter, migrate

    database.engine_defaults(app.config)  # pool_pre_ping and friends: before the engine is made
    db.init_app(app)
    database.configure_engine(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"),
                     render_as_batch=True)
    limiter.init_app(app)
    _drop_limiter_hooks(app, limiter)
    ratelimits.init_app(app)  # before CSRF: posts with bad tokens count against the limit too
    csrf.init_app(app)
    csrf_tokens.init_app(app)  # each session's token signed once per process
    badge_answers.install(app)  # inside TrustedProxies (security): keyed by the scheme and host the app sees
    security.init_app(app)
    sessions.init_app(app)
    static_compression.init_app(app)  # gzip for static js, css, wasm, svg: compressed once per process
    static_files.init_app(app)  # fingerprinted static URLs, cached for a year (after compression: it wraps it)
    link_cache.init_app(app)  # templates' url_for: links the same for everyone built once every few seconds

    from . import auth, changelog
    from .mail import models as _mail_models  # noqa: F401  (tables the migrations know)
    from .reports import models as _report_models  # noqa: F401  (tables the migrations know)
    from .guests import models as _guest_models  # noqa: F401  (tables the migrations know)
    from .api import models as _api_models  # noqa: F401  (tables the migrations know)

    auth.init_app(app)
    changelog.init_app(app)
    from .urls import public_address_problem

    # A function, not a value: only the organizer pages that show a join link or QR call it.
    app.jinja_env.globals["public_address_problem"] = public_address_problem
    from .events import timezones

    timezones.init_app(app)  # the `local_time` and `in_zone` filters: times in a series' zone

    from .followup import digest

    digest.init_app(app)  # queues the digest when an event closes (signals.event_closed)


def _drop_limiter_hooks(app, limiter):
    """Take Flask-Limiter's own request hooks off: they look for decorated and default limits,
    and kithmeet has none (ratelimits.check counts every limit itself), yet they ran on every
    request, a static file's and a cached badge's too. Flask-Limiter stays for its storages."""
    inject_headers = getattr(type(limiter), "_Limiter__inject_headers")
    app.before_request_funcs[None] = [f for f in app.before_request_funcs.get(None, [])
                                      if f != limiter._check_request_limit]
    app.after_request_funcs[None] = [f for f in app.after_request_funcs.get(None, [])
                                     if not (getattr(f, "func", None) is inject_headers)]
    app.teardown_request_funcs[None] = [f for f in app.teardown_request_funcs.get(None, [])
                                        if f != getattr(limiter, "_Limiter__release_context")]


def register_blueprints(app):
    from .api import auth as api_auth
    from .api.token_views import bp as api_tokens_bp
    from .api.views import bp as api_bp
    from .badges.views import bp as badges_bp
    from .badges import sheet_views  # noqa: F401 - printed badges register on badges' bp
    from .connections.views import bp as connections_bp
    from .connections import scanner_views  # noqa: F401 - the in-page scanner registers on connections' bp
    from .connections.news_views import bp as news_bp
    from .followup.views import bp as followup_bp
    from .guests.views import bp as guests_bp
    from .followup import reconnect_views  # noqa: F401 - reconnect today's pages register on followup's bp
    from .followup import mail_views  # noqa: F401 - unsubscribe and the mail switches register on followup's bp
    from .home import bp as home_bp
    from .offline import bp as offline_bp
    from .organizer.views import bp as organizer_bp
    from .organizer.kiosk_views import bp as kiosk_bp
    from .people.views import bp as people_bp
    from .reports.views import bp as reports_bp

    for bp in (home_bp, organizer_bp, people_bp, badges_bp, connections_bp, followup_bp, reports_bp, guests_bp):
        app.register_blueprint(bp)
    app.register_blueprint(offline_bp)  # the manifest and /sw.js: the worker's scope is the site's root
    app.register_blueprint(kiosk_bp)  # the door kiosk: its lock runs before every request
    app.register_blueprint(api_bp)  # JSON under /api/v1 (its own CSRF check: kithmeet/api/auth.py)
    app.register_blueprint(api_tokens_bp)  # /settings/api-tokens
    api_auth.init_app(app)  # current_person() knows a bearer token's person, for the rate limits too
    app.register_blueprint(news_bp)  # "X connected with you": GET /api/v1/news, read without a session


def register_errorhandlers(app):
    from . import errors

    errors.init_app(app)


def register_commands(app):
    from . import commands

    commands.init_app(app)
