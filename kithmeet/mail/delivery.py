"""Handing one message to the world: an SMTP server when `MAIL_SERVER` is set, otherwise a
`.eml` file in `instance/outbox/` and a console line saying where it is, so a newcomer's
first `make run` can follow a sign-in link without any mail setup."""
import json
import logging
import os
import smtplib
import ssl
import tempfile
from datetime import timezone
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from flask import current_app

logger = logging.getLogger("kithmeet.mail")
# Flask's logger passes on warnings only; where a message went is worth a line at INFO
# (it reaches the console through the app logger's handler, as changelog lines do).
logger.setLevel(logging.INFO)
SMTP_TIMEOUT = 30  # seconds per step; the worker renews its claim while it waits (worker._Renewal)


class DeliveryError(Exception):
    """A send that did not happen; `code` is a short word for `OutgoingMail.last_error`."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def build_message(mail, sender):
    """The EmailMessage for an OutgoingMail (or the worker's snapshot of one): the text
    part, the HTML part as its alternative when there is one, and the extra headers."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at.replace(tzinfo=timezone.utc))
    # The public id makes the Message-ID: a resend after a crash (docs/decisions.md) carries
    # the same one, so a receiving system can tell it is the same message.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<{mail.public_id}@{domain}>"
    for name, value in json.loads(mail.headers or "{}").items():
        message[name] = value
    message.set_content(mail.text_body)
    if mail.html_body:
        message.add_alternative(mail.html_body, subtype="html")
    return message


def deliver(mail):
    """Send `mail`, or raise DeliveryError. Returns where it went ("smtp" or "outbox")."""
    config = current_app.config
    message = build_message(mail, config["MAIL_SENDER"])
    if config.get("MAIL_SERVER"):
        _send_smtp(message, config)
        logger.info("mail %s sent to %s", mail.public_id, masked(mail.to_address))
        return "smtp"
    path = _write_outbox(message, mail, os.path.join(current_app.instance_path, "outbox"))
    # Never the body: it may hold a sign-in link, a secret. The file is where to read it.
    logger.info("mail to %s (no MAIL_SERVER set): %s", masked(mail.to_address), path)
    return "outbox"


def masked(address):
    """'ada@example.org' -> 'a…@example.org': enough to tell messages apart on a console."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}…@{domain}"


def _write_outbox(message, mail, folder):
    try:
        os.makedirs(folder, exist_ok=True)
        name = f"{mail.created_at:%Y%m%dT%H%M%S}-{mail.public_id}.eml"
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".new-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(message.as_bytes())
            os.replace(temporary, os.path.join(folder, name))  # whole or not at all
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        raise DeliveryError("outbox") from None
    return os.path.join(folder, name)


def _send_smtp(message, config):
    implicit_tls, starttls = bool(config.get("MAIL_USE_TLS")), bool(config.get("MAIL_USE_STARTTLS"))
    port = int(config.get("MAIL_PORT") or (465 if implicit_tls else 587 if starttls else 25))
    context = ssl.create_default_context()
    try:
        if implicit_tls:
            smtp = smtplib.SMTP_SSL(config["MAIL_SERVER"], port, timeout=SMTP_TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(config["MAIL_SERVER"], port, timeout=SMTP_TIMEOUT)
        with smtp:
            if starttls:
                smtp.starttls(context=context)
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(message)
    # Codes only: the server's reply and the exception text name addresses.
    except smtplib.SMTPAuthenticationError:
        raise DeliveryError("auth") from None
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError):
        raise DeliveryError("refused") from None
    except (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected, ConnectionError):
        raise DeliveryError("unreachable") from None
    except ssl.SSLError:
        raise DeliveryError("tls") from None
    except TimeoutError:
        raise DeliveryError("timeout") from None
    except smtplib.SMTPException:
        raise DeliveryError("smtp") from None
    except OSError:
        raise DeliveryError("unreachable") from None
