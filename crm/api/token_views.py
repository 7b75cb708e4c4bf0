"""The API tokens page (/api/tokens): make a token (shown once), see when each was last used, revoke one."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..formtools import show_errors
from . import tokens, tokens_bp
from .forms import RevokeForm, TokenForm


def _page(form: TokenForm, new_secret: str | None = None, new_token=None, status: int = 200):
    me = current_user._get_current_object()
    return render_template("api/tokens.html", form=form, revoke_form=RevokeForm(), tokens=tokens.tokens_of(me),
                           new_secret=new_secret, new_token=new_token), status


@tokens_bp.get("/")
@login_required
def index():
    return _page(TokenForm())


@tokens_bp.post("/")
@login_required
def create():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        made = tokens.create_token(current_user._get_current_object(), form.name.data or "", form.days.data)
    except tokens.TokenError as exc:
        show_errors(form, exc.errors)
        return _page(form, status=422)
    db.session.commit()
    # Shown in this response only: the page is never cached (Cache-Control: no-store) and the secret is kept nowhere.
    return _page(TokenForm(formdata=None), new_secret=made.secret, new_token=made.token, status=201)


@tokens_bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    me = current_user._get_current_object()
    token = tokens.get_own_token_or_404(me, token_id)
    if RevokeForm().validate_on_submit() and tokens.revoke(token, by=me):
        db.session.commit()
        flash(f"‘{token.name}’ was revoked: it no longer works.", "success")
    return redirect(url_for(".index"))
