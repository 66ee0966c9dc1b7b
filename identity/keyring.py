"""Every key the gateway uses, derived from the operator's one secret (``GATEWAY_SECRET``), and what they do.

The secret never reaches Redis: a copy of Redis alone therefore holds pseudonyms nobody can recompute, numbers
nobody can decrypt and PIN hashes nobody can test. HKDF (RFC 5869, from ``cryptography``) derives one independent
subkey per purpose, so no key serves two jobs:

=============== ============================================================================================
``pseudonym``   keyed BLAKE2b of a number: what per-caller Redis keys are named by. Fast (it runs on every USSD
                request) and one-way; without the key, trying all numbers of a country gets nowhere.
``seal``        AES-SIV (RFC 5297), deterministic authenticated encryption of a number that must be kept because
                an SMS must go to it: equal numbers give equal tokens, so sets, opt-outs and dedupe still work.
                The digits are packed into 7 bytes first: a token is 31 characters (a subscriber costs
                about 70 bytes more in Redis than with its number in clear: bench/keyring_cost.py).
``encrypt``     AES-GCM with a random nonce, for free text (a report's details): equal texts look different.
``pin``         keys the PIN hash (see :meth:`Keyring.pin_hash`).
others          :meth:`Keyring.key` hands a subkey to a seam that keys its own digests (session digests).
=============== ============================================================================================

Changing the secret makes every pseudonym, token and PIN hash unreadable: it is the installation's identity.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["MIN_SECRET_CHARS", "InvalidToken", "Keyring", "new_secret"]

#: Shortest secret accepted: 32 characters of a random token carry far more than 128 bits.
MIN_SECRET_CHARS = 32
_INFO = b"feature-phone-gateway/v1/"
#: E.164 has at most 15 digits and never starts with 0, so the digits read as an integer below 10**15 < 2**56.
_PACKED = 7
_NONCE = 12
#: scrypt cost for PIN hashes (about 50 ms on one core); see :meth:`Keyring.pin_hash` for why it stays.
PIN_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class InvalidToken(ValueError):
    """A token that was not made by this keyring (another secret, or altered)."""


def new_secret() -> str:
    """A fresh secret for ``GATEWAY_SECRET`` (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(token: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("not a token") from exc


class Keyring:
    """The subkeys of one secret. Build it once per process (HKDF runs at construction, never per request)."""

    def __init__(self, secret: str) -> None:
        if not isinstance(secret, str) or len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"GATEWAY_SECRET must be at least {MIN_SECRET_CHARS} characters.")
        self._master = secret.encode()
        self._pseudonym = hashlib.blake2b(key=self.key("pseudonym"), digest_size=16)
        self._siv = AESSIV(self.key("seal", 64))
        self._gcm = AESGCM(self.key("encrypt"))
        self._pin = self.key("pin")

    def key(self, purpose: str, length: int = 32) -> bytes:
        """The subkey for ``purpose``: the same secret and purpose always give the same key."""
        return HKDF(algorithm=hashes.SHA256(), length=length, salt=None,
                    info=_INFO + purpose.encode()).derive(self._master)

    # -- numbers -------------------------------------------------------------------------------------------------

    def pseudonym(self, phone: str) -> str:
        """A stable, one-way name for ``phone`` (E.164), 32 hex characters. Copying a pre-keyed hash costs less
        than keying a new one (measured in bench/RESULTS.md)."""
        h = self._pseudonym.copy()
        h.update(phone.encode())
        return h.hexdigest()

    def seal(self, phone: str) -> str:
        """``phone`` (E.164) encrypted deterministically: 31 URL-safe characters, equal for equal numbers."""
        digits = phone[1:] if phone.startswith("+") else ""
        if not (digits.isascii() and digits.isdigit() and len(digits) <= 15 and digits[0] != "0"):
            raise ValueError("only an E.164 number (+ and up to 15 digits) can be sealed")
        return _b64(self._siv.encrypt(int(digits).to_bytes(_PACKED, "big"), None))

    def unseal(self, token: str) -> str:
        """The E.164 number inside a :meth:`seal` token. Raises :class:`InvalidToken` for anything else."""
        try:
            packed = self._siv.decrypt(_unb64(token), None)
        except InvalidTag as exc:
            raise InvalidToken("not sealed with this secret") from exc
        return "+" + str(int.from_bytes(packed, "big"))

    # -- free text -----------------------------------------------------------------------------------------------

    def encrypt(self, text: str, *, context: str = "") -> str:
        """``text`` encrypted with a random nonce; ``context`` (e.g. a case reference) must match to decrypt, so a
        ciphertext moved onto another record does not decrypt there."""
        nonce = secrets.token_bytes(_NONCE)
        return _b64(nonce + self._gcm.encrypt(nonce, text.encode(), context.encode()))

    def decrypt(self, token: str, *, context: str = "") -> str:
        raw = _unb64(token)
        try:
            return self._gcm.decrypt(raw[:_NONCE], raw[_NONCE:], context.encode()).decode()
        except (InvalidTag, ValueError) as exc:
            raise InvalidToken("not encrypted with this secret, or altered") from exc

    # -- PINs and digests ----------------------------------------------------------------------------------------

    def pin_hash(self, pin: str, salt: bytes) -> bytes:
        """scrypt of ``pin`` with the per-account ``salt`` keyed by the secret (HMAC), 32 bytes.

        Keyed, a copy of Redis without the secret cannot test a single guess, so scrypt is not what protects a PIN
        from a thief with Redis alone. It stays for the one case left: the secret stolen *with* Redis. A 4-digit
        PIN then falls either way for one account, but scrypt makes every account cost 10,000 × 50 ms instead of
        microseconds, which matters for a million accounts and for PINs reused for mobile money. Its 50 ms are
        paid only on the PIN screen, never on the menus' hot path.
        """
        keyed_salt = hmac.new(self._pin, salt, hashlib.sha256).digest()
        return hashlib.scrypt(pin.encode(), salt=keyed_salt, dklen=32, **PIN_SCRYPT)

    def digest(self, purpose: str, data: str | bytes) -> str:
        """A keyed digest of ``data`` for ``purpose`` (32 hex characters): for what Redis keeps to recognise a
        value again without letting anyone test guesses against it (a request body holding numbers). Derives its
        key per call: not for the hot path."""
        raw = data.encode() if isinstance(data, str) else data
        return hashlib.blake2b(raw, key=self.key("digest/" + purpose), digest_size=16).hexdigest()
