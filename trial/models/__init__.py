"""Trial models, split by concept."""

from .participant import Participant, ParticipantIdentity, ParticipantStatus, SiteSequence
from .protocol import Criterion, CriterionKind, ProtocolVersion, Study
from .screening import NotEnrolledReason, Outcome, Screening, Sex
from .site import Role, Site, StaffRole

__all__ = [
    "Criterion",
    "CriterionKind",
    "NotEnrolledReason",
    "Outcome",
    "Participant",
    "ParticipantIdentity",
    "ParticipantStatus",
    "ProtocolVersion",
    "Role",
    "Screening",
    "Sex",
    "Site",
    "SiteSequence",
    "StaffRole",
    "Study",
]
