"""Every write to trial data goes through a named service that owns its transaction."""

from .contact import opt_out_by_patient, opt_out_end, opt_out_record
from .enrollment import participant_enroll, participant_identity_update, participant_set_status
from .identity_log import identity_read_log
from .imaging import imaging_exams_register, participant_exams_register
from .protocols import ProtocolFileError, protocol_load, protocol_parse
from .screening import screening_create, screening_evaluate, screening_update

__all__ = [
    "ProtocolFileError",
    "identity_read_log",
    "imaging_exams_register",
    "opt_out_by_patient",
    "opt_out_end",
    "opt_out_record",
    "participant_enroll",
    "participant_exams_register",
    "participant_identity_update",
    "participant_set_status",
    "protocol_load",
    "protocol_parse",
    "screening_create",
    "screening_evaluate",
    "screening_update",
]
