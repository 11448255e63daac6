"""Tests for shared.pii: keyed hashes and sealed ID numbers."""

from __future__ import annotations

import pytest

from shared.pii import PiiProtector, SealBroken, derive_key

SECRET = b"s" * 32
OTHER_SECRET = b"t" * 32
NUMBER = "11010519491231002X"
OTHER_NUMBER = "610326199001011233"


@pytest.fixture
def protector() -> PiiProtector:
    return PiiProtector.from_secret(SECRET)


def test_match_key_is_deterministic_32_bytes(protector: PiiProtector) -> None:
    first = protector.match_key(NUMBER)
    assert len(first) == 32
    assert first == protector.match_key(NUMBER)
    assert first == PiiProtector.from_secret(SECRET).match_key(NUMBER)


def test_match_key_differs_for_different_numbers(protector: PiiProtector) -> None:
    assert protector.match_key(NUMBER) != protector.match_key(OTHER_NUMBER)


def test_match_key_differs_for_different_secrets(protector: PiiProtector) -> None:
    other = PiiProtector.from_secret(OTHER_SECRET)
    assert protector.match_key(NUMBER) != other.match_key(NUMBER)


def test_match_key_treats_lower_case_x_as_x(protector: PiiProtector) -> None:
    assert protector.match_key(NUMBER.lower()) == protector.match_key(NUMBER)


def test_match_keys_equals_match_key_per_number(protector: PiiProtector) -> None:
    numbers = [NUMBER, OTHER_NUMBER, NUMBER]
    assert protector.match_keys(numbers) == [protector.match_key(n) for n in numbers]


def test_seal_open_round_trip(protector: PiiProtector) -> None:
    assert protector.open(protector.seal(NUMBER)) == NUMBER
    sealed = protector.seal(NUMBER, aad=b"household:42")
    assert protector.open(sealed, aad=b"household:42") == NUMBER


def test_seal_round_trips_non_ascii_text(protector: PiiProtector) -> None:
    assert protector.open(protector.seal("张三")) == "张三"


def test_two_seals_of_the_same_value_differ(protector: PiiProtector) -> None:
    assert protector.seal(NUMBER) != protector.seal(NUMBER)


def test_seal_many_round_trips_and_uses_fresh_nonces(protector: PiiProtector) -> None:
    sealed = protector.seal_many([NUMBER, OTHER_NUMBER, NUMBER])
    assert [protector.open(s) for s in sealed] == [NUMBER, OTHER_NUMBER, NUMBER]
    assert len({s[:12] for s in sealed}) == 3


def test_seal_many_of_nothing_is_empty(protector: PiiProtector) -> None:
    assert protector.seal_many([]) == []


@pytest.mark.parametrize("position", [0, 11, 12, 20, -1])
def test_tampered_byte_breaks_the_seal(protector: PiiProtector, position: int) -> None:
    sealed = bytearray(protector.seal(NUMBER))
    sealed[position] ^= 0x01
    with pytest.raises(SealBroken):
        protector.open(bytes(sealed))


def test_truncated_seal_is_broken(protector: PiiProtector) -> None:
    with pytest.raises(SealBroken):
        protector.open(protector.seal(NUMBER)[:20])


def test_wrong_aad_breaks_the_seal(protector: PiiProtector) -> None:
    sealed = protector.seal(NUMBER, aad=b"household:42")
    with pytest.raises(SealBroken):
        protector.open(sealed, aad=b"household:43")
    with pytest.raises(SealBroken):
        protector.open(sealed)


def test_other_secret_cannot_open(protector: PiiProtector) -> None:
    with pytest.raises(SealBroken):
        PiiProtector.from_secret(OTHER_SECRET).open(protector.seal(NUMBER))


def test_seal_broken_is_a_value_error() -> None:
    assert issubclass(SealBroken, ValueError)


def test_sealed_bytes_do_not_contain_the_plaintext(protector: PiiProtector) -> None:
    sealed = protector.seal(NUMBER)
    assert NUMBER.encode() not in sealed
    assert NUMBER[-8:].encode() not in sealed


def test_derive_key_differs_by_purpose() -> None:
    assert derive_key(SECRET, "id-match") != derive_key(SECRET, "id-seal")


def test_derive_key_is_deterministic_with_requested_length() -> None:
    assert derive_key(SECRET, "id-match") == derive_key(SECRET, "id-match")
    assert len(derive_key(SECRET, "id-match", 64)) == 64


def test_derive_key_refuses_short_secret() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        derive_key(b"x" * 31, "id-match")


def test_protector_refuses_wrong_size_seal_key() -> None:
    with pytest.raises(ValueError):
        PiiProtector(match_key=b"k" * 32, seal_key=b"k" * 16)
