"""What marks the demo's own rows and accounts, and how the participants it did not create are told apart."""

from django.apps import apps
from django.db.models import Exists, OuterRef

from ..models import Participant, Study

DEMO_REASON = "synthetic demo data"
DEMO_COMMAND = "seed_demo"  # the audit context's command of every row the demo writes
# Every demo login's e-mail domain: .invalid is reserved (RFC 2606), so no real account has an address there.
DEMO_EMAIL_DOMAIN = "demo.invalid"


def demo_inserted() -> Exists:
    """For a filter on participants: the audit trail records the row as inserted by seed_demo. The seeders
    fill only these, so that run by mistake on a live database they never invent data for real people."""
    return Exists(
        apps.get_model("trial", "ParticipantEvent").objects.filter(
            pgh_obj=OuterRef("pk"), pgh_label="insert", pgh_context__metadata__command=DEMO_COMMAND
        )
    )


def demo_foreign_participants(study: Study):
    """The study's participants the demo did not create: the ones seed_demo refuses to seed beside.

    The demo's own are those the audit trail records as inserted by seed_demo, and those a demo login (an
    account at DEMO_EMAIL_DOMAIN) enrolled while trying the pages; anyone else is a real participant.
    """
    return (
        Participant.objects.filter(site__study=study)
        .exclude(demo_inserted())
        .exclude(enrolled_by__email__iendswith=f"@{DEMO_EMAIL_DOMAIN}")
    )
