"""Packing and signing an Apple .pkpass: pass.json, images, manifest.json (SHA-1 of every file) and
a detached DER PKCS#7 `signature` over the manifest (Apple "PassKit Package Format").

Images change only with the branding, so they are prepared once (hashes and ready ZIP entries, placed
first so their offsets never move); building a pass is then pass.json, one manifest, one signature.
The ZIP is written directly (stored entries, as images are already compressed): zipfile's per-entry
bookkeeping cost more than the signature.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from nujoomy_wallet_pass.credentials import PassCredentials

MEDIA_TYPE = "application/vnd.apple.pkpass"
# 1980-01-01 00:00, the ZIP epoch: entries carry no meaningful time, and a fixed one keeps output stable.
_DOS_TIME, _DOS_DATE = 0, (0 << 9) | (1 << 5) | 1


def _local_and_central(name: str, data: bytes, offset: int) -> tuple[bytes, bytes]:
    raw = name.encode()
    crc, size = zlib.crc32(data), len(data)
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, _DOS_TIME, _DOS_DATE, crc, size, size, len(raw), 0
    )
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50, 20, 20, 0, 0, _DOS_TIME, _DOS_DATE, crc, size, size,
        len(raw), 0, 0, 0, 0, 0o644 << 16, offset,
    )  # fmt: skip
    return local + raw + data, central + raw


@dataclass(frozen=True)
class PreparedImages:
    blob: bytes  # the images' local entries, from offset 0
    central: tuple[bytes, ...]
    hashes: tuple[tuple[str, str], ...]


def prepare_images(images: Mapping[str, bytes]) -> PreparedImages:
    blob, central, digests = bytearray(), [], []
    for name, data in sorted(images.items()):
        filename = f"{name}.png"
        local, record = _local_and_central(filename, data, len(blob))
        blob += local
        central.append(record)
        digests.append((filename, hashlib.sha1(data).hexdigest()))  # noqa: S324 - Apple's manifest format
    return PreparedImages(bytes(blob), tuple(central), tuple(digests))


def manifest(files: Mapping[str, bytes]) -> bytes:
    return json.dumps(
        {name: hashlib.sha1(data).hexdigest() for name, data in sorted(files.items())},  # noqa: S324
        separators=(",", ":"),
    ).encode()


def sign_manifest(data: bytes, credentials: PassCredentials) -> bytes:
    # set_data/add_signer return builders that drop earlier certificates, so WWDR goes in last.
    # Binary: sign the bytes as they are (no MIME CRLF canonicalisation). Default attributes keep
    # signingTime, which Wallet requires.
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(data)
        .add_signer(credentials.certificate, credentials.key, hashes.SHA256())  # type: ignore[arg-type]
        .add_certificate(credentials.wwdr)
    )
    return builder.sign(
        serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    )


def build_pkpass(
    pass_json: Mapping[str, Any], images: Mapping[str, bytes] | PreparedImages, credentials: PassCredentials
) -> bytes:
    prepared = images if isinstance(images, PreparedImages) else prepare_images(images)
    body = json.dumps(pass_json, ensure_ascii=False).encode()
    digests = dict(prepared.hashes)
    digests["pass.json"] = hashlib.sha1(body).hexdigest()  # noqa: S324
    man = json.dumps(dict(sorted(digests.items())), separators=(",", ":")).encode()
    out = bytearray(prepared.blob)
    central = list(prepared.central)
    for name, data in (
        ("pass.json", body),
        ("manifest.json", man),
        ("signature", sign_manifest(man, credentials)),
    ):
        local, record = _local_and_central(name, data, len(out))
        out += local
        central.append(record)
    directory = b"".join(central)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory), len(out), 0)
    return bytes(out + directory + end)
