"""The worked example of docs/contracts.md, byte for byte (issue 15 point 8): the keys, the request, the signature
base line by line and the headers are read from the document and recomputed — independently of contracts/signing.py
from RFC 9421/9530 and Ed25519, and with contracts/signing.py — and the server accepts exactly that request once
(its nonce is then used up for that device, not for another)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import re
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.cache import cache
from rest_framework.test import APIClient

from contracts import signing
from server.devices.authentication import nonce_key
from server.devices.models import Device

CONTRACTS = Path(__file__).resolve().parents[2] / "docs" / "contracts.md"


def example_block(name: str) -> str:
    """The fenced block right after ``<!-- contract-example:NAME -->``, without its fences."""
    match = re.search(rf"<!-- contract-example:{name} -->\n```[a-z]*\n(.*?)\n```", CONTRACTS.read_text("utf-8"), re.S)
    assert match, f"docs/contracts.md has no contract-example:{name} block"
    return match.group(1)


def keys() -> dict[str, str]:
    rows = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in example_block("keys").splitlines())
    return {
        "seed": rows["private key (Ed25519 seed, hex)"],
        "public": rows["public key (registration, base64)"],
        "device_id": rows["device id (keyid)"],
        "created": rows["created"].split()[0],
        "nonce": rows["nonce"],
    }


def request() -> tuple[str, str, str, bytes]:
    head, body = example_block("request").split("\n\n", 1)
    request_line, *header_lines = head.splitlines()
    method, path, _ = request_line.split(" ")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return method, path, headers["Host"], body.encode("utf-8")


def headers() -> dict[str, str]:
    return dict(line.split(": ", 1) for line in example_block("headers").splitlines())


def test_the_public_key_is_the_one_of_the_seed():
    example = keys()
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(example["seed"]))
    assert signing.public_key_b64(key) == example["public"]
    # RFC 8032 §7.1 test 1: the document's key is the published test vector.
    assert base64.b64decode(example["public"]).hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )


def test_the_signature_base_and_headers_follow_from_the_request():
    """Built here from the RFCs, not with contracts/signing.py: the document is what any implementation must do."""
    example, sent = keys(), headers()
    method, path, _, body = request()
    digest = "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"
    params = (
        '("@method" "@path" "@query" "content-digest")'
        f';created={example["created"]};keyid="{example["device_id"]}";alg="ed25519";nonce="{example["nonce"]}"'
    )
    path_only, _, query = path.partition("?")
    base = "\n".join(
        [
            f'"@method": {method}',
            f'"@path": {path_only}',
            f'"@query": ?{query}',
            f'"content-digest": {digest}',
            f'"@signature-params": {params}',
        ]
    )
    assert base == example_block("signature-base")
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(example["seed"]))
    signature = base64.b64encode(key.sign(base.encode("ascii"))).decode()
    assert sent == {
        "Content-Digest": digest,
        "Signature-Input": f"sig1={params}",
        "Signature": f"sig1=:{signature}:",
    }


def test_contracts_signing_writes_exactly_the_documented_headers():
    example = keys()
    method, path, host, body = request()
    key = signing.private_key_from_bytes(bytes.fromhex(example["seed"]))
    created = datetime.datetime.fromtimestamp(int(example["created"]), datetime.UTC)
    written = signing.sign_request(
        method, f"http://{host}{path}", {}, body, key, example["device_id"], created=created, nonce=example["nonce"]
    )
    assert written == headers()


@pytest.mark.django_db
def test_the_server_accepts_the_documented_request_once(institution, settings):
    """Sent as documented (the clock difference widened to reach back to the example's time): accepted; sent again:
    a replay; the same nonce from another device: accepted — nonces are unique per device."""
    settings.DEVICE_SIGNATURE_CLOCK_SKEW = 10**10
    example = keys()
    # The example's nonce is fixed: forget its use by an earlier run of this test within the last 600 s.
    cache.delete(nonce_key(example["device_id"], example["nonce"]))
    method, path, host, body = request()
    Device.objects.create(
        id=uuid.UUID(example["device_id"]), institution=institution, name="受付1", public_key=example["public"]
    )
    client = APIClient()

    def send(extra_headers: dict[str, str]):
        # The signature covers method, path, query and body, not the host: sent to the test server as it is.
        return client.generic(method, path, data=body, content_type="application/json", headers=extra_headers)

    accepted = send(headers())
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["device_id"] == example["device_id"]
    replayed = send(headers())
    assert replayed.status_code == 401 and replayed.json()["error"]["code"] == "replayed_request"

    other_key = signing.generate_device_key()
    other = Device.objects.create(institution=institution, name="受付2", public_key=signing.public_key_b64(other_key))
    created = datetime.datetime.fromtimestamp(int(example["created"]), datetime.UTC)
    same_nonce = signing.sign_request(
        method, f"http://{host}{path}", {}, body, other_key, str(other.pk), created=created, nonce=example["nonce"]
    )
    assert send(same_nonce).status_code == 200
