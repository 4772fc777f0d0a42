"""The password hasher of the test run: Django's PBKDF2-SHA256, the production algorithm and hash format,
with fewer rounds. A password check costs about 0.23 s at Django's 1,000,000 rounds; the suite signs,
confirms and signs in several thousand times. Hashes made here carry their round count, so a server process
started by a test (with the production hasher list) still verifies them."""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class FewRoundsPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1_000
