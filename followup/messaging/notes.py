"""Why a message was held, cancelled, failed or left unconfirmed, as data: a code with its parameters, read in
the reader's language (as the queries' machine messages are, crf.engine.messages).

A stored code outlives a change of language: the dispatcher writes it with no reader in mind, and a Chinese
coordinator and an English data manager each read it in theirs. The parameters name a state, a channel, a
user name or a gateway's short refusal, never an address or a text.

Codes and their parameters:
- participant_status {status}, visit_state {state}, window_closed, submitted, opted_out {channel},
  no_contact {channel}: a reminder that no longer applies (cancelled);
- account_inactive, no_contact {channel}, switched_off, no_role: a digest that no longer applies (cancelled);
- quiet_hours: held until the quiet hours end at the site;
- no_link {code}, not_composed {error}: the text could not be made (failed);
- refused {detail}: the gateway refused (retried, then failed); `detail` is the channel's short reason;
- no_answer, crashed: the outcome is unknown (unconfirmed);
- confirmed {by}, resend {by}: a staff member's answer to an unconfirmed message.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext as _

from trial.models import ContactChannel, ParticipantStatus

from ..models import VisitState

PARAM_MAX = 200  # a gateway's reason is cut, as the old free-text note was


@dataclass(frozen=True)
class Note:
    code: str
    params: Mapping = field(default_factory=dict)

    def fields(self) -> dict:
        """The model's columns: note_code and note_params."""
        return {
            "note_code": self.code,
            "note_params": {k: str(v)[:PARAM_MAX] for k, v in self.params.items()},
        }


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _channel(params: Mapping) -> str:
    return _label(ContactChannel, params.get("channel", ""))


# Each code's text, given its parameters; called with the reader's language active.
_TEXTS: dict[str, Callable[[Mapping], str]] = {
    "participant_status": lambda p: (
        _("Not sent: the participant is %(status)s.")
        % {"status": _label(ParticipantStatus, p.get("status", ""))}
    ),
    "visit_state": lambda p: (
        _("Not sent: the visit is %(state)s.") % {"state": _label(VisitState, p.get("state", ""))}
    ),
    "window_closed": lambda p: _("Not sent: the visit's window has closed."),
    "submitted": lambda p: _("Not sent: the questionnaire was submitted."),
    "opted_out": lambda p: (
        _("Not sent: the participant opted out of %(channel)s.") % {"channel": _channel(p)}
    ),
    "no_contact": lambda p: _("Not sent: no %(channel)s contact on file.") % {"channel": _channel(p)},
    "account_inactive": lambda p: _("Not sent: the account is inactive."),
    "switched_off": lambda p: _("Not sent: the reader switched this digest off."),
    "no_role": lambda p: _("Not sent: the reader no longer has a role that receives it."),
    "quiet_hours": lambda p: _("Held: quiet hours at the site."),
    "no_link": lambda p: (
        _("Failed: no patient link could be issued (%(code)s).") % {"code": p.get("code", "")}
    ),
    "not_composed": lambda p: (
        _("Failed: the text could not be composed (%(error)s).") % {"error": p.get("error", "")}
    ),
    "refused": lambda p: _("Refused by the gateway: %(detail)s") % {"detail": p.get("detail", "")},
    "no_answer": lambda p: _("The gateway's answer did not arrive."),
    "crashed": lambda p: _("No outcome recorded: the sender stopped while sending."),
    "confirmed": lambda p: _("Confirmed as delivered by %(user)s.") % {"user": p.get("by", "")},
    "resend": lambda p: _("Resend requested by %(user)s.") % {"user": p.get("by", "")},
}
NOTE_CODES = tuple(_TEXTS)


def _render(code: str, params: Mapping) -> str:
    text = _TEXTS.get(code)
    return text(params) if text else code


def note_text(code: str, params: Mapping | None = None, language: str | None = None) -> str:
    """The note in `language` (default: the active one); "" for none, the code itself for an unknown one."""
    if not code:
        return ""
    if language is None:
        return _render(code, params or {})
    with translation.override(language):
        return _render(code, params or {})
