"""The shared catalogue's pages: the federation keeps it; a cooperative's admin adopts an
item or updates the copy."""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from coopreg.agreements.forms import InstitutionForm, SchemeForm
from coopreg.auth.access import roles_required
from coopreg.auth.forms import EmptyForm
from coopreg.auth.models import Role
from coopreg.core.forms import choices
from coopreg.core.tenancy import current_cooperative, db_id
from coopreg.core.unit_of_work import button_post
from coopreg.federations import catalogue
from coopreg.federations.access import (
    FEDERATION_ROLES,
    current_federation,
    federation_roles_required,
)
from coopreg.federations.forms import (
    AdoptTemplateForm,
    CatalogueEditForm,
    FollowTemplateForm,
    TemplateForm,
)
from coopreg.federations.models import FederationRole
from coopreg.federations.views import bp


def _item_id() -> int | None:
    return request.form.get("item", type=db_id)


def _item_or_404(federation):
    item = catalogue.catalogue_item(federation.id, _item_id())
    if item is None:
        abort(404)
    return item


@bp.route("/catalogue")
@federation_roles_required(*FEDERATION_ROLES)
def catalogue_page():
    federation = current_federation()
    items = catalogue.catalogue_of(federation.id)
    return render_template(
        "federations/catalogue.html", federation=federation, items=items,
        layouts=catalogue.layouts_of(federation.id),
        templates=catalogue.templates_of(federation.id),
        template_form=_template_form(items),
        form=InstitutionForm(),
        edit_forms={i.id: CatalogueEditForm(obj=i, prefix=f"e{i.id}") for i in items},
        scheme_forms={i.id: SchemeForm(prefix=f"s{i.id}") for i in items})


def _template_form(items) -> TemplateForm:
    form = TemplateForm()
    form.institution_id.choices = choices((i.id, i.short_name) for i in items)
    return form


@bp.route("/catalogue/template", methods=["POST"])
@federation_roles_required(FederationRole.ADMIN)
def set_catalogue_template():
    federation = current_federation()
    form = _template_form(catalogue.catalogue_of(federation.id))
    return button_post(form, lambda: catalogue.set_template(
        federation, form.institution_id.data, form.name.data, form.terms_data()),
        back=url_for("federations.catalogue_page"),
        invalid=_("Give the template's name, its institution and its terms."),
        done=lambda template: _("Template %(name)s saved (version %(n)d).",
                                name=template.name, n=template.version))


@bp.route("/catalogue", methods=["POST"])
@federation_roles_required(FederationRole.ADMIN)
def add_catalogue_institution():
    federation = current_federation()
    form = InstitutionForm()
    return button_post(form, lambda: catalogue.add_institution(
        federation, form.name.data, form.short_name.data, form.country.data),
        back=url_for("federations.catalogue_page"),
        invalid=_("Give the institution's name, short name and country."),
        done=lambda item: _("%(name)s added to the catalogue.", name=item.short_name))


@bp.route("/catalogue/institution", methods=["POST"])
@federation_roles_required(FederationRole.ADMIN)
def edit_catalogue_institution():
    item = _item_or_404(current_federation())
    form = CatalogueEditForm(prefix=f"e{item.id}")
    return button_post(form, lambda: catalogue.update_institution(
        item, form.name.data, form.country.data),
        back=url_for("federations.catalogue_page"),
        invalid=_("Give the institution's name and country."),
        done=lambda item: _("Saved: %(name)s is at version %(n)d.", name=item.short_name,
                            n=item.version))


@bp.route("/catalogue/scheme", methods=["POST"])
@federation_roles_required(FederationRole.ADMIN)
def set_catalogue_scheme():
    item = _item_or_404(current_federation())
    form = SchemeForm(prefix=f"s{item.id}")
    return button_post(form, lambda: catalogue.set_scheme(
        item, form.name.data, form.branches.data, form.member_benefits.data,
        form.how_to_claim.data),
        back=url_for("federations.catalogue_page"),
        invalid=_("Give the scheme's name and the branches it covers."),
        done=lambda scheme: _("Scheme %(name)s saved.", name=scheme.name))


# ---- the cooperative's side ------------------------------------------------------------------
@bp.route("/adopt")
@roles_required(Role.ADMIN)
def cooperative_catalogue():
    """The federation's catalogue as the cooperative sees it: adopt an item, or update the
    copy when the federation's version changed."""
    from coopreg.agreements.services import agreements_of
    from coopreg.batches.models import FileLayout
    from coopreg.core.tenancy import scoped
    from coopreg.extensions import db

    cooperative = current_cooperative()
    return render_template(
        "federations/adopt.html", offers=catalogue.offers(cooperative), form=EmptyForm(),
        layout_offers=catalogue.layout_offers(cooperative),
        agreements=agreements_of(cooperative.id),
        may_publish=catalogue.may_publish(current_user.id, cooperative),
        own_layouts=db.session.scalars(scoped(FileLayout).order_by(FileLayout.name,
                                                                   FileLayout.id)).all(),
        template_offers=catalogue.template_offers(cooperative),
        adopt_forms=lambda item: AdoptTemplateForm(prefix=f"t{item.id}"),
        follow_form=lambda adoption: FollowTemplateForm(prefix=f"f{adoption.id}"))


@bp.route("/adopt", methods=["POST"])
@roles_required(Role.ADMIN)
def adopt():
    cooperative = current_cooperative()
    item_id = _item_id()
    return button_post(EmptyForm(), lambda: catalogue.adopt(cooperative, item_id),
                       back=url_for("federations.cooperative_catalogue"),
                       done=lambda adoption: _("%(name)s adopted: it is now among your "
                                               "institutions.",
                                               name=adoption.source.short_name))


@bp.route("/adopt/update", methods=["POST"])
@roles_required(Role.ADMIN)
def update_copy():
    cooperative = current_cooperative()
    item_id = _item_id()
    return button_post(EmptyForm(), lambda: catalogue.update_copy(cooperative, item_id),
                       back=url_for("federations.cooperative_catalogue"),
                       done=lambda adoption: _("Your copy of %(name)s is up to date.",
                                               name=adoption.source.short_name))


@bp.route("/adopt/layout/publish", methods=["POST"])
@roles_required(Role.ADMIN)
def publish_layout():
    """A federation admin who is also the cooperative's admin puts one of its layouts in the
    federation's catalogue."""
    cooperative = current_cooperative()
    layout_id = request.form.get("layout", type=db_id)
    return button_post(EmptyForm(), lambda: catalogue.publish_layout(
        cooperative, layout_id, current_user.id),
        back=url_for("federations.cooperative_catalogue"),
        done=lambda item: _("Layout %(name)s is in the federation's catalogue (version %(n)d).",
                            name=item.name, n=item.version))


@bp.route("/adopt/layout", methods=["POST"])
@roles_required(Role.ADMIN)
def adopt_layout():
    cooperative = current_cooperative()
    item_id = _item_id()
    agreement_id = request.form.get("agreement", type=db_id)
    return button_post(EmptyForm(), lambda: catalogue.adopt_layout(cooperative, item_id,
                                                                   agreement_id),
                       back=url_for("federations.cooperative_catalogue"),
                       done=lambda adoption: _("Layout %(name)s adopted.",
                                               name=adoption.source.name))


@bp.route("/adopt/layout/update", methods=["POST"])
@roles_required(Role.ADMIN)
def update_layout_copies():
    cooperative = current_cooperative()
    item_id = _item_id()
    return button_post(EmptyForm(), lambda: catalogue.update_layout_copies(cooperative,
                                                                           item_id),
                       back=url_for("federations.cooperative_catalogue"),
                       done=lambda n: ngettext("%(num)d copy of the layout is up to date.",
                                               "%(num)d copies of the layout are up to date.",
                                               n))


@bp.route("/adopt/template", methods=["POST"])
@roles_required(Role.ADMIN)
def adopt_template():
    cooperative = current_cooperative()
    item_id = _item_id()
    form = AdoptTemplateForm(prefix=f"t{item_id}")
    return button_post(form, lambda: catalogue.adopt_template(
        cooperative, item_id, form.reference.data, form.valid_from.data, current_user.id),
        back=url_for("federations.cooperative_catalogue"),
        invalid=_("Give the agreement's reference number and the date it starts."),
        done=lambda adoption: _("Agreement made from the template %(name)s.",
                                name=adoption.source.name))


@bp.route("/adopt/template/follow", methods=["POST"])
@roles_required(Role.ADMIN)
def follow_template():
    cooperative = current_cooperative()
    adoption_id = request.form.get("adoption", type=db_id)
    form = FollowTemplateForm(prefix=f"f{adoption_id}")
    return button_post(form, lambda: catalogue.follow_template(
        cooperative, adoption_id, form.effective_from.data, current_user.id),
        back=url_for("federations.cooperative_catalogue"),
        invalid=_("Give the date the new terms take effect."),
        done=lambda adoption: _("The agreement follows the template's version %(n)d.",
                                n=adoption.version))
