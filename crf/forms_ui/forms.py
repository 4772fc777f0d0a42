"""The small forms of the CRF pages: a reason for change, an e-signature, unlocking, and data queries."""

from django import forms
from django.utils.translation import gettext_lazy

from trial.audit import MAX_REASON_LENGTH

from ..models import QueryAction, SignatureMeaning


class ReasonForm(forms.Form):
    """The reason for change a completed, verified or signed form needs."""

    reason = forms.CharField(
        label=gettext_lazy("Reason for change"),
        required=False,
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SignForm(forms.Form):
    """An investigator's e-signature: the meaning of the signature (21 CFR 11.50), the user ID on the first
    signing of the session (`ask_user_id`, 11.200(a)(1)) and the password again."""

    meaning = forms.ChoiceField(
        label=gettext_lazy("Meaning of the signature"),
        choices=SignatureMeaning.choices,
        widget=forms.RadioSelect,
    )
    username = forms.CharField(
        label=gettext_lazy("Your user ID"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, ask_user_id: bool = True, **kwargs):
        kwargs.setdefault("prefix", "sign")
        super().__init__(*args, **kwargs)
        if not ask_user_id:
            del self.fields["username"]


class UnlockForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for unlocking"),
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "unlock")
        super().__init__(*args, **kwargs)


class QueryRaiseForm(forms.Form):
    field_path = forms.CharField(max_length=200, widget=forms.HiddenInput)
    text = forms.CharField(
        label=gettext_lazy("Question"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class QueryStepForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(a, a) for a in (QueryAction.ANSWER, QueryAction.CLOSE, QueryAction.REOPEN)]
    )
    text = forms.CharField(
        label=gettext_lazy("Message"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
