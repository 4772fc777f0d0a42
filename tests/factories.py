"""factory_boy factories for setup records (users and roles). Research data is made through the services."""

import factory
from django.contrib.auth import get_user_model

from trial.models import StaffRole

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.LazyAttribute(lambda user: user.username.title())  # printed on e-signatures
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class StaffRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffRole

    user = factory.SubFactory(UserFactory)
    study = factory.LazyAttribute(lambda role: role.site.study if role.site else None)
    site = None
    role = "coordinator"
