"""Trial models, split by concept."""

from .counts import SiteCount  # also registers the count triggers on Screening and Participant
from .identity_log import IdentityChannel, IdentityRead, IdentityShown
from .imaging import ImagingExam
from .participant import (
    ContactChannel,
    ContactOptOut,
    OptOutSource,
    Participant,
    ParticipantIdentity,
    ParticipantStatus,
    SiteSequence,
)
from .protocol import Criterion, CriterionKind, ProtocolVersion, Study
from .screening import NotEnrolledReason, Outcome, Screening, Sex
from .site import Cohort, Role, Site, StaffRole
from .twofactor import TwoFactorChange, TwoFactorEvent

__all__ = [
    "Cohort",
    "ContactChannel",
    "ContactOptOut",
    "Criterion",
    "CriterionKind",
    "IdentityChannel",
    "IdentityRead",
    "IdentityShown",
    "ImagingExam",
    "NotEnrolledReason",
    "OptOutSource",
    "Outcome",
    "Participant",
    "ParticipantIdentity",
    "ParticipantStatus",
    "ProtocolVersion",
    "Role",
    "Screening",
    "Sex",
    "Site",
    "SiteCount",
    "SiteSequence",
    "StaffRole",
    "Study",
    "TwoFactorChange",
    "TwoFactorEvent",
]
