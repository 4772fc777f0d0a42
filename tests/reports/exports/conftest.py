"""Shared by the exports' tests: a study seeded by the demo seeds (screening, enrollment, CRFs, visits,
questionnaires, adjudication), at a frozen clock."""

import pytest

from ...conftest import frozen_clock
from ..test_dataset import seed


@pytest.fixture
def seeded(study):
    """30 participants, seeded on 2026-11-21 (tests/reports/test_dataset.py's TODAY)."""
    with frozen_clock("2026-11-21 09:00"):
        seed(study, 30)
    study.refresh_from_db()
    return study
