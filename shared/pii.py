"""Protection of ID numbers at rest.

ID numbers are never stored in plain text (SPEC §2). Each is kept twice:
a keyed hash (HMAC-SHA256) that lets the registry match incoming records by
equality without holding the number, and an authenticated ciphertext
(AES-256-GCM) for the rare, audited, authorised display. Both keys are
derived from one deployment secret, one key per purpose, so that neither
key can be turned into the other.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_SECRET_BYTES = 32
MATCH_PURPOSE = "id-match"
SEAL_PURPOSE = "id-seal"

_NONCE_BYTES = 12
_TAG_BYTES = 16
_SEAL_KEY_BYTES = 32  # AES-256


class SealBroken(ValueError):
    """A sealed value failed authentication: tampered, wrong key or wrong aad."""


def derive_key(secret: bytes, purpose: str, length: int = 32) -> bytes:
    """Derive a `length`-byte key for `purpose` from the deployment secret.

    HKDF-SHA256 without salt and with info b"warnex:" + purpose: the same
    secret and purpose always give the same key, different purposes give
    unrelated keys. Raises ValueError if the secret is shorter than 32 bytes
    or the purpose is empty.
    """
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the deployment secret must be at least {MIN_SECRET_BYTES} bytes")
    if not purpose:
        raise ValueError("a key purpose must not be empty")
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=length,
        salt=None,
        info=b"warnex:" + purpose.encode("utf-8"),
    )
    return hkdf.derive(secret)


def _normalise(id_number: str) -> bytes:
    # Only a lower-case check character x needs normalising; callers validate
    # with shared.idcard.parse_id_number before hashing.
    return id_number.upper().encode("utf-8")


class PiiProtector:
    """Keyed hashing and sealing of ID numbers with one deployment's keys.

    Holds one prepared HMAC and one AESGCM object: bulk loads hash and seal
    hundreds of thousands of numbers, and rebuilding them per value costs more
    than the work itself.
    """

    __slots__ = ("_aead", "_mac")

    def __init__(self, *, match_key: bytes, seal_key: bytes) -> None:
        if len(match_key) < 32:
            raise ValueError("the match key must be at least 32 bytes")
        if len(seal_key) != _SEAL_KEY_BYTES:
            raise ValueError("the seal key must be 32 bytes (AES-256)")
        self._mac = hmac.new(match_key, digestmod=hashlib.sha256)
        self._aead = AESGCM(seal_key)

    @classmethod
    def from_secret(cls, secret: bytes) -> PiiProtector:
        """A protector with keys derived from the deployment secret (>= 32 bytes)."""
        return cls(
            match_key=derive_key(secret, MATCH_PURPOSE),
            seal_key=derive_key(secret, SEAL_PURPOSE),
        )

    def match_key(self, id_number: str) -> bytes:
        """The 32-byte HMAC-SHA256 of the normalised number, for equality matching.

        Deterministic per deployment secret; a lower-case x hashes like X.
        """
        # copy() of the keyed object skips re-keying, the dominant cost here.
        mac = self._mac.copy()
        mac.update(_normalise(id_number))
        return mac.digest()

    def match_keys(self, id_numbers: list[str]) -> list[bytes]:
        """match_key for each number, in order."""
        prepared = self._mac
        result: list[bytes] = []
        for id_number in id_numbers:
            mac = prepared.copy()
            mac.update(_normalise(id_number))
            result.append(mac.digest())
        return result

    def seal(self, plaintext: str, *, aad: bytes = b"") -> bytes:
        """Encrypt and authenticate: a fresh 12-byte random nonce || ciphertext+tag.

        Sealing the same value twice gives different bytes. `aad` (for
        example a row's key) is authenticated but not stored; open() needs it.
        """
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext.encode("utf-8"), aad)

    def seal_many(self, plaintexts: list[str]) -> list[bytes]:
        """seal() for each value, in order, with no associated data."""
        # One urandom call for all nonces instead of one syscall per value.
        # Random 96-bit nonces stay safe far beyond any registry's size
        # (NIST SP 800-38D allows 2**32 messages per key).
        nonces = os.urandom(_NONCE_BYTES * len(plaintexts))
        encrypt = self._aead.encrypt
        result: list[bytes] = []
        for index, plaintext in enumerate(plaintexts):
            nonce = nonces[index * _NONCE_BYTES : (index + 1) * _NONCE_BYTES]
            result.append(nonce + encrypt(nonce, plaintext.encode("utf-8"), b""))
        return result

    def open(self, sealed: bytes, *, aad: bytes = b"") -> str:
        """Decrypt a value made by seal() with the same key and `aad`.

        Raises SealBroken if it was altered, truncated, sealed with another key
        or opened with different associated data.
        """
        if len(sealed) < _NONCE_BYTES + _TAG_BYTES:
            raise SealBroken("the sealed value is too short")
        nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            plain = self._aead.decrypt(nonce, body, aad)
        except InvalidTag:
            raise SealBroken(
                "the sealed value failed authentication "
                "(altered, another key, or different associated data)"
            ) from None
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:
            raise SealBroken("the sealed value is not text") from None
