"""TODO(issue 4)."""

urlpatterns: list = []
