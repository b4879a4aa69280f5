"""Who helps run a series: the members page (owners), invite links, leaving a series.

Registered on the organizer blueprint (imported at the bottom of views.py)."""
from flask import flash, redirect, render_template, url_for

from ..auth import current_organizer, organizer_required, sign_in_organizer
from ..errors import DomainError
from ..events import access, members
from ..events.models import ROLE_LABELS
from ..formtools import coded
from .member_forms import ConfirmForm, InviteForm, MemberForm, NewAccountForm, RevokeForm, RoleForm
from .views import bp


def _members_page(series, *, invite_form=None, link=None, problem=None, status=200):
    """`problem` is (member id, DomainError) to show beside that member's row."""
    found, people, invites = members.members_of(current_organizer(), series)
    return render_template(
        "organizer/members.html", series=found, members=people, invites=invites,
        invite_form=invite_form or InviteForm(), role_form=RoleForm(), member_form=MemberForm(),
        revoke_form=RevokeForm(), link=link, problem=problem, me=current_organizer(),
        role_labels=ROLE_LABELS), status


@bp.get("/series/<series>/members")
@organizer_required
def members_page(series):
    return _members_page(series)


@bp.post("/series/<series>/members/invite")
@organizer_required
def invite_member(series):
    form = InviteForm()
    if form.validate_on_submit():
        try:
            _, token = members.invite(current_organizer(), series, role=form.role.data, email=form.email.data)
        except DomainError as error:
            if error.code in ("bad_role", "bad_email"):
                field = form.role if error.code == "bad_role" else form.email
                field.errors = [*field.errors, coded(error.code, error.message)]
                return _members_page(series, invite_form=form, status=400)
            raise
        # Shown once, in this response only: the token is not kept anywhere it could be read again.
        return _members_page(series, link=members.invite_link(token))
    return _members_page(series, invite_form=form, status=400)


@bp.post("/series/<series>/members/revoke")
@organizer_required
def revoke_invite(series):
    form = RevokeForm()
    if not form.validate_on_submit():
        raise DomainError("Choose an invite.", "unknown_invite")
    members.revoke_invite(current_organizer(), series, form.invite.data)  # a stale button: the error page
    flash("The invite is withdrawn: its link no longer works.", "success")
    return redirect(url_for(".members_page", series=series))


@bp.post("/series/<series>/members/role")
@organizer_required
def change_member_role(series):
    form = RoleForm()
    if not form.validate_on_submit():
        raise DomainError("Choose a member and a role.", "bad_role")
    try:
        members.change_role(current_organizer(), series, form.member.data, form.role.data)
    except DomainError as error:
        if error.code != "last_owner":
            raise
        return _members_page(series, problem=(form.member.data, error), status=error.status)
    flash("The role is changed.", "success")
    return redirect(url_for(".members_page", series=series))


@bp.post("/series/<series>/members/remove")
@organizer_required
def remove_member(series):
    form = MemberForm()
    if not form.validate_on_submit():
        raise DomainError("Choose a member.", "unknown_member")
    try:
        members.remove_member(current_organizer(), series, form.member.data)
    except DomainError as error:
        if error.code != "last_owner":
            raise
        return _members_page(series, problem=(form.member.data, error), status=error.status)
    flash("They no longer help run this series.", "success")
    return redirect(url_for(".members_page", series=series))


@bp.route("/series/<series>/leave", methods=["GET", "POST"])
@organizer_required
def leave_series(series):
    organizer = current_organizer()
    found = access.series_for(organizer, series, "door")
    form = ConfirmForm()
    error = None
    if form.is_submitted():
        if not form.validate_on_submit():
            raise DomainError("That form has expired. Try again.", "bad_request")
        try:
            members.leave(organizer, series)
        except DomainError as refused:
            if refused.code != "last_owner":
                raise
            error = refused
        else:
            flash(f"You no longer help run {found.name}.", "success")
            return redirect(url_for(".dashboard"))
    return render_template("organizer/members_leave.html", series=found, form=form, error=error,
                           role=access.role_in(organizer, found.id)), (error.status if error else 200)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token):
    """The link is the authority: its page says which series and role, nothing else. A signed-in
    organizer joins with one button; anyone else makes an account here and is signed in."""
    invite, series = members.open_invite(token)  # unknown, used, revoked, expired: the error page
    organizer = current_organizer()
    form = ConfirmForm() if organizer else NewAccountForm()
    if form.validate_on_submit():
        try:
            if organizer:
                members.accept(organizer, token)
            else:
                organizer, _ = members.accept_with_new_account(token, form.email.data, form.password.data)
                sign_in_organizer(organizer)
        except DomainError as error:
            if error.code not in ("bad_email", "weak_password", "organizer_exists", "already_member"):
                raise
            target = form.password if error.code == "weak_password" else getattr(form, "email", None)
            if target is None:
                form.form_errors.append(coded(error.code, error.message))
            else:
                target.errors = [*target.errors, coded(error.code, error.message)]
        else:
            flash(f"Welcome to {series.name}.", "success")
            return redirect(url_for(".dashboard"))
    return render_template("organizer/invite.html", invite=invite, series=series, form=form, organizer=organizer,
                           role_label=ROLE_LABELS[invite.role]), (400 if form.errors else 200)
