from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.roles import Permission
from ..extensions import db
from ..filters import load_filter, save_filter
from ..scoping import require, visible_branches_stmt
from ..vocabulary import ContactStatus, PaymentMethod
from . import bp, service
from .forms import ContactSearchForm


def _to_filter(values: dict) -> service.ContactFilter:
    def enum_or_none(enum_cls, raw):
        return enum_cls(raw) if raw in {m.value for m in enum_cls} else None

    branch = values.get("branch") or ""
    return service.ContactFilter(
        q=(values.get("q") or "")[:200],
        branch_id=int(branch) if str(branch).isdigit() else None,
        status=enum_or_none(ContactStatus, values.get("status")),
        payment_method=enum_or_none(PaymentMethod, values.get("payment")),
    )


@bp.route("/", methods=["GET", "POST"])
@require(Permission.VIEW_CONTACTS)
def index():
    branches = db.session.execute(visible_branches_stmt(current_user)).scalars().all()
    form = ContactSearchForm()
    form.set_branch_choices(branches)
    if request.method == "POST":
        if form.validate():
            key = save_filter("contacts", {k: form[k].data for k in ("q", "branch", "status", "payment")})
            return redirect(url_for(".index", f=key))
        status = 422
        values = {}
    else:
        status = 200
        values = load_filter("contacts", request.args.get("f"))
        form.process(data=values)
    page = service.search_contacts(current_user, _to_filter(values),
                                   request.args.get("page", 1, type=int), current_app.config["CONTACTS_PER_PAGE"])
    return render_template("contacts/index.html", page=page, form=form, filter_key=request.args.get("f"),
                           filtered=any(values.values()) if values else False), status


@bp.get("/<int:contact_id>")
@require(Permission.VIEW_CONTACTS)
def show(contact_id: int):
    contact = service.get_contact_for_view(current_user, contact_id)
    db.session.commit()
    return render_template("contacts/show.html", contact=contact)
