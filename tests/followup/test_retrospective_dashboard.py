"""A study without follow-up (NCT07306858, retrospective: no `visits:` in its protocol) gets no follow-up or
reminders panel on the dashboard, and no "Model outputs" menu item goes to a study analysed per participant;
the per-vertebra study's readers get it."""

import re

import pytest
from django.test import Client

from trial.models import Role

from ..trial.retro_helpers import fixture_retro  # noqa: F401 -- fixture

pytestmark = pytest.mark.django_db
NAV = re.compile(r'<nav class="mainnav".*?</nav>', re.S)


def dashboard(user) -> tuple[str, str]:
    client = Client()
    client.force_login(user)
    html = client.get("/").content.decode()
    return html, NAV.search(html).group(0)


def test_a_retrospective_studys_staff_see_no_follow_up_or_reminders(make_user, retro, study, site):
    coordinator = make_user("coordcq", role=Role.COORDINATOR, study=retro, site=retro.sites.get(code="CQ1"))
    html, _menu = dashboard(coordinator)
    assert "NCT07306858" in html
    assert 'id="followup-title"' not in html and 'id="messages-title"' not in html
    # A coordinator of the followed study sees both.
    html, _menu = dashboard(make_user("coord07", role=Role.COORDINATOR, site=site))
    assert 'id="followup-title"' in html and 'id="messages-title"' in html


def test_model_outputs_are_offered_only_for_a_study_analysed_per_vertebra(make_user, retro, study):
    prospective = make_user("dm1", role=Role.DATA_MANAGER, study=study)
    accuracy = make_user("dm2", role=Role.DATA_MANAGER, study=retro)
    assert "/reports/model-outputs/" not in dashboard(prospective)[1]
    assert "/reports/model-outputs/" in dashboard(accuracy)[1]
    # A coordinator of the accuracy study is not a reader of model outputs.
    coordinator = make_user("coordcq", role=Role.COORDINATOR, study=retro, site=retro.sites.get(code="CQ1"))
    assert "/reports/model-outputs/" not in dashboard(coordinator)[1]
