"""factory_boy factories for setup records (users and roles). Research data is made through the services."""

import functools

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from trial.models import StaffRole

PASSWORD = "correct-horse-battery-9"


@functools.cache
def hashed_password() -> str:
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.LazyAttribute(lambda user: user.username.title())  # printed on e-signatures
    # Every test user has the same password: hashed once (PBKDF2, as in production), not once per user,
    # which took a quarter of a second each and minutes over the suite.
    password = factory.LazyFunction(hashed_password)


class StaffRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffRole

    user = factory.SubFactory(UserFactory)
    study = factory.LazyAttribute(lambda role: role.site.study if role.site else None)
    site = None
    role = "coordinator"
