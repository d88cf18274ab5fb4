from __future__ import annotations

from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.test import override_settings

from clearplan import settings as real_settings


def test_passwords_are_hashed_with_argon2():
    # The test suite swaps in a fast hasher (conftest); the installed settings use Argon2 first.
    assert real_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=real_settings.PASSWORD_HASHERS):
        encoded = make_password("correct horse battery staple")
        assert encoded.startswith("argon2$argon2id$")
        assert identify_hasher(encoded).algorithm == "argon2"
        assert check_password("correct horse battery staple", encoded)
        assert not check_password("Correct horse battery staple", encoded)


def test_a_staff_members_stored_password_is_argon2(owner, password):
    with override_settings(PASSWORD_HASHERS=real_settings.PASSWORD_HASHERS):
        owner.set_password(password)
        owner.save()
        owner.refresh_from_db()
        assert owner.password.startswith("argon2$")
        assert owner.check_password(password)
