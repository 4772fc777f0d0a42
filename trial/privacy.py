"""Identifying data never reaches error reports: its form fields are cleansed like passwords."""

from django.views.debug import SafeExceptionReporterFilter

IDENTITY_FIELDS = ("full_name", "phone", "hospital_record_number", "national_id")


class IdentityReporterFilter(SafeExceptionReporterFilter):
    """Django's error reports (debug page, admin e-mails) with the identity fields of a POST cleansed."""

    def get_post_parameters(self, request):
        params = super().get_post_parameters(request)
        hidden = [name for name in IDENTITY_FIELDS if name in params]
        if not hidden:
            return params
        params = params.copy()
        for name in hidden:
            params[name] = self.cleansed_substitute
        return params
