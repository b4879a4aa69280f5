"""The front page: where each kind of visitor starts."""
from flask import Blueprint, redirect, render_template, url_for

from .auth import current_organizer, current_person
from .connections.forms import CodeForm
from .organizer import services as organizers

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    if current_person() is None and current_organizer() is None and not organizers.organizer_exists():
        return redirect(url_for("organizer.setup"))
    return render_template("home.html", code_form=CodeForm())
