"""Rate limits read from config at request time, so tests and deployments can tune them."""
from flask import current_app

from .extensions import limiter


def _configured(name):
    return lambda: current_app.config[name]


scan = limiter.limit(_configured("RATELIMIT_SCAN"))
join = limiter.limit(_configured("RATELIMIT_JOIN"), methods=["POST"])
signin = limiter.limit(_configured("RATELIMIT_SIGNIN"))
