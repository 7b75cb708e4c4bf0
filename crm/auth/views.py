from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, limiter
from . import bp, service
from .forms import ChangePasswordForm, LoginForm
from .passwords import verify_password


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after sign-in is a phishing aid.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.home")


def _email_key() -> str:
    return "login-email:" + service.normalise_email(request.form.get("email", ""))


def _failed(response) -> bool:
    # Only failed attempts count towards the limit; a successful sign-in redirects.
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], deduct_when=_failed)
@limiter.limit(lambda: current_app.config["LOGIN_EMAIL_RATE_LIMIT"], methods=["POST"],
               key_func=_email_key, deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data, ip=request.remote_addr)
        db.session.commit()
        if user is not None:
            next_url = _safe_next(request.args.get("next"))
            session.clear()  # a fresh session at sign-in: nothing carried over from before
            login_user(user)
            session.permanent = True
            return redirect(next_url)
        form.form_errors.append("The email address or password is not right. Check them and try again.")
    status = 422 if form.errors or form.form_errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    service.sign_out_everywhere(current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not verify_password(user.password_hash, form.current_password.data):
            form.current_password.errors.append("Your current password is not right.")
        else:
            try:
                service.set_password(user, form.new_password.data)
            except service.AccountError as exc:
                form.new_password.errors.append(str(exc))
            else:
                db.session.commit()
                login_user(user)  # keep this session; the version bump signs out the others
                flash("Your password has been changed. Other sessions have been signed out.", "success")
                return redirect(url_for("auth.account"))
    status = 422 if form.errors else 200
    return render_template("auth/account.html", form=form), status
