"""Packing and signing an Apple .pkpass: pass.json, images, manifest.json (SHA-1 of every file) and
a detached DER PKCS#7 `signature` over the manifest (Apple "PassKit Package Format")."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from nujoomy_wallet_pass.credentials import PassCredentials

MEDIA_TYPE = "application/vnd.apple.pkpass"


def manifest(files: Mapping[str, bytes]) -> bytes:
    return json.dumps(
        {name: hashlib.sha1(data).hexdigest() for name, data in sorted(files.items())},  # noqa: S324 - Apple's format
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
    pass_json: Mapping[str, Any], images: Mapping[str, bytes], credentials: PassCredentials
) -> bytes:
    files: dict[str, bytes] = {"pass.json": json.dumps(pass_json, ensure_ascii=False).encode()}
    files.update({f"{name}.png": data for name, data in images.items()})
    man = manifest(files)
    out = io.BytesIO()
    # Images are already compressed; storing them saves time and costs nothing in size.
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr("manifest.json", man)
        zf.writestr("signature", sign_manifest(man, credentials))
    return out.getvalue()
