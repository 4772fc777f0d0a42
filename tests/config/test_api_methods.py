"""A method an API view does not take answers 405 (with Allow) whoever asks, even a role the permission
matrix hides the URL's records from (a 404 there told an adjudicator nothing the schema does not)."""

import pytest
from rest_framework.test import APIClient

from trial.models import Role


@pytest.fixture(autouse=True)
def permission_matrix(settings):
    settings.PERMISSION_MATRIX_ENFORCED = True


@pytest.mark.parametrize("method", ["trace", "delete", "put"])
def test_an_undeclared_method_is_a_405_even_where_the_role_is_refused(make_user, study, method):
    adjudicator = make_user("adjudicator", role=Role.ADJUDICATOR, study=study)
    client = APIClient()
    client.force_authenticate(adjudicator)
    response = getattr(client, method)("/api/v1/identity-log/")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"


def test_a_declared_method_is_still_refused_to_the_role(make_user, study):
    adjudicator = make_user("adjudicator", role=Role.ADJUDICATOR, study=study)
    client = APIClient()
    client.force_authenticate(adjudicator)
    assert client.get("/api/v1/identity-log/").status_code == 404
