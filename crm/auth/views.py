from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..audit import service as audit
from ..extensions import db, limiter
from . import bp, service
from . import mfa as mfa_service
from .forms import ChangePasswordForm, CodeForm, LoginForm, MfaSetupForm, PasswordConfirmForm, TrainingForm
from .gate import MFA_KEY, mark_signed_in
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
            # The second factor, when the account has or needs one, is asked for next (crm/auth/gate.py).
            mark_signed_in(second_factor_done=False)
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
    return _account_page(form, status)


def _account_page(form, status=200, confirm_form=None):
    user = current_user._get_current_object()
    valid_days = current_app.config["TRAINING_VALID_DAYS"]
    return render_template("auth/account.html", form=form, confirm_form=confirm_form or PasswordConfirmForm(),
                           codes_left=mfa_service.recovery_codes_left(user), training_due_on=user.training_due_on(valid_days),
                           training_due=user.training_due(valid_days)), status


def _mfa_key() -> str:
    return f"mfa-user:{current_user.get_id().split(':')[0]}" if current_user.is_authenticated else "mfa-anon"


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit("10 per 5 minutes", methods=["POST"], key_func=_mfa_key, deduct_when=_failed)
@login_required
def mfa():
    """The second step of signing in: a code from the authenticator app, or a recovery code."""
    user = current_user._get_current_object()
    next_url = _safe_next(request.args.get("next"))
    if session.get(MFA_KEY):
        return redirect(next_url)
    if not user.mfa_enabled:
        return redirect(url_for("auth.mfa_setup", next=request.args.get("next")))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            used = mfa_service.verify(user, form.code.data)
        except mfa_service.MfaError as exc:
            db.session.commit()  # the failure is audited
            form.code.errors.append(str(exc))
        else:
            db.session.commit()
            session[MFA_KEY] = True
            if used == "recovery":
                left = mfa_service.recovery_codes_left(user)
                flash(f"You used a recovery code; {left} left. Make new ones from Your account if you are "
                      "running low.", "info")
            return redirect(next_url)
    status = 422 if form.errors else 200
    return render_template("auth/mfa.html", form=form), status


@bp.route("/account/two-step", methods=["GET", "POST"])
@login_required
def mfa_setup():
    """Set up two-step sign-in: scan the QR code, confirm a first code, keep the recovery codes."""
    user = current_user._get_current_object()
    if user.mfa_enabled:
        return redirect(url_for("auth.mfa" if not session.get(MFA_KEY) else "auth.account"))
    secret = session.get("mfa_pending") or mfa_service.new_secret()
    session["mfa_pending"] = secret
    form = MfaSetupForm()
    if form.validate_on_submit():
        try:
            codes = mfa_service.enable(user, secret, form.code.data)
        except mfa_service.MfaError as exc:
            form.code.errors.append(str(exc))
        else:
            db.session.commit()
            session.pop("mfa_pending", None)
            session[MFA_KEY] = True
            return render_template("auth/recovery_codes.html", codes=codes,
                                   next_url=_safe_next(request.args.get("next")), first=True)
    uri = mfa_service.provisioning_uri(user, secret)
    status = 422 if form.errors else 200
    return render_template("auth/mfa_setup.html", form=form, qr=mfa_service.qr_svg(uri), secret=secret,
                           required=user.mfa_required), status


@bp.post("/account/two-step/recovery-codes")
@login_required
def new_recovery_codes():
    user = current_user._get_current_object()
    form = PasswordConfirmForm()
    if not user.mfa_enabled:
        return redirect(url_for("auth.mfa_setup"))
    if form.validate_on_submit() and verify_password(user.password_hash, form.password.data):
        codes = mfa_service.new_recovery_codes(user)
        audit.record("mfa.recovery_codes", user=user, obj=user)
        db.session.commit()
        return render_template("auth/recovery_codes.html", codes=codes, next_url=url_for("auth.account"), first=False)
    if not form.password.errors:
        form.password.errors.append("Your password is not right.")
    return _account_page(ChangePasswordForm(formdata=None), 422, confirm_form=form)


@bp.post("/account/two-step/off")
@login_required
def mfa_off():
    user = current_user._get_current_object()
    form = PasswordConfirmForm()
    if user.mfa_required:
        flash("Two-step sign-in is required for your role and cannot be turned off.", "error")
        return redirect(url_for("auth.account"))
    if form.validate_on_submit() and verify_password(user.password_hash, form.password.data):
        mfa_service.reset(user, by=user)
        db.session.commit()
        login_user(user)  # this session stays; the version bump signs out the others
        session[MFA_KEY] = False
        flash("Two-step sign-in is off.", "success")
        return redirect(url_for("auth.account"))
    if not form.password.errors:
        form.password.errors.append("Your password is not right.")
    return _account_page(ChangePasswordForm(formdata=None), 422, confirm_form=form)


@bp.route("/account/training", methods=["GET", "POST"])
@login_required
def training():
    """Record data-protection training; while it is overdue this is the only page a user can use."""
    user = current_user._get_current_object()
    valid_days = current_app.config["TRAINING_VALID_DAYS"]
    form = TrainingForm()
    if form.validate_on_submit():
        try:
            service.record_training(user, form.completed_on.data, valid_days=valid_days)
        except service.AccountError as exc:
            form.completed_on.errors.append(str(exc))
        else:
            db.session.commit()
            flash("Thank you: your data-protection training is recorded.", "success")
            return redirect(url_for("main.home"))
    status = 422 if form.errors else 200
    return render_template("auth/training.html", form=form, due=user.training_due(valid_days),
                           due_on=user.training_due_on(valid_days), valid_days=valid_days), status
