"""`flask --app app <command>`: create-organizer, setup-code, demo."""
import os

import click
from flask import url_for

from .errors import DomainError
from .extensions import db


def _local_base(app):
    return app.config.get("PUBLIC_URL") or "http://{}:{}".format(
        os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "5000"))


def init_app(app):
    @app.cli.command("create-organizer")
    @click.option("--email", prompt=True, help="The organizer's sign-in email.")
    @click.password_option(help="At least 10 characters; prompted for when not given.")
    def create_organizer(email, password):
        """Create an organizer account."""
        from .organizer import services

        try:
            organizer = services.create_organizer(email, password)
        except DomainError as error:
            raise click.ClickException(error.message) from None
        click.echo(f"Organizer {organizer.email} created. Sign in at {_local_base(app)}/organizer/login")

    @app.cli.command("setup-code")
    def setup_code():
        """Print the one-time code that the first organizer types on the setup page."""
        from .organizer import services

        if services.organizer_exists():
            click.echo("kithmeet is set up: organizers sign in at /organizer/login.")
            return
        click.echo(f"First run: open {_local_base(app)}/organizer/setup and enter the setup code "
                   f"{services.setup_code()}")

    @app.cli.command("demo")
    def demo():
        """Seed a demo series, an open event and attendees; print each attendee's sign-in link."""
        from . import demo as demo_module

        base = _local_base(app)
        with app.test_request_context(base_url=base):
            event, organizer, password, attendees = demo_module.seed()
            click.echo(f"Demo event “{event.name}” is open. Join link: {base}{url_for('people.join', code=event.join_code)}")
            if password:
                click.echo(f"Organizer sign-in: {base}/organizer/login  email {organizer.email}  password {password}")
            click.echo("Open two attendees' links in two browser windows (one private), then scan or open "
                       "one's badge link from the other:")
            for person, secret in attendees:
                click.echo(f"  {person.name:<16}  {base}{url_for('people.signin', secret=secret)}")

    @app.shell_context_processor
    def shell_context():
        return {"db": db}
