"""The domain error, and the pages shown for HTTP errors."""
from flask import render_template
from flask_wtf.csrf import CSRFError


class DomainError(Exception):
    """A rule of the product was broken; `code` is stable, `message` is for people."""

    def __init__(self, message, code, status=400):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class NotFound(DomainError):
    def __init__(self, message="We couldn't find that.", code="not_found"):
        super().__init__(message, code, status=404)


def init_app(app):
    @app.errorhandler(DomainError)
    def domain_error(error):
        return render_template("error.html", title="Something's not right", message=error.message,
                               code=error.code), error.status

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_template(
            "error.html", title="Please try again",
            message="This form had expired or came from another page. Go back, reload it and submit again.",
            code="csrf"), 400

    pages = {
        400: ("Bad request", "That request didn't make sense to us."),
        403: ("Not allowed", "You don't have access to that page."),
        404: ("Not found", "There's nothing at this address."),
        405: ("Not allowed", "That page can't be used that way."),
        413: ("Too large", "That was more text than we accept. Shorten it and try again."),
        429: ("Slow down", "Too many tries in a short time. Wait a minute and try again."),
        500: ("Something broke", "Something went wrong on our side. Try again in a moment."),
    }

    def make_handler(status, title, message):
        def handler(_error):
            return render_template("error.html", title=title, message=message, code=str(status)), status
        return handler

    for status, (title, message) in pages.items():
        app.register_error_handler(status, make_handler(status, title, message))
