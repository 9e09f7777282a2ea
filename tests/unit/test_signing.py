"""contracts.signing: the RFC 9421 profile of docs/contracts.md, signed and verified without Django (tests/unit: no
services needed), checked against the generic http-message-signatures package as the reference."""

from __future__ import annotations

import datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import signing

URL = "https://clinic.example/api/v1/results?scope=device&page_size=8"


@pytest.fixture
def key():
    return signing.generate_device_key()


def resolver_for(key, key_id="dev-1"):
    public = signing.load_public_key(signing.public_key_b64(key))
    return lambda kid: public if kid == key_id else None


def test_round_trip_returns_key_id_and_nonce(key):
    added = signing.sign_request("POST", URL, {}, b'{"a": 1}', key, "dev-1")
    assert set(added) == {"Content-Digest", "Signature-Input", "Signature"}
    assert added["Content-Digest"].startswith("sha-256=:")
    assert added["Signature-Input"].startswith('sig1=("@method" "@path" "@query" "content-digest")')
    for param in ("created=", "nonce=", 'keyid="dev-1"', 'alg="ed25519"'):
        assert param in added["Signature-Input"]
    verified = signing.verify_request("POST", URL, added, b'{"a": 1}', resolver_for(key))
    assert verified.key_id == "dev-1"
    assert len(verified.nonce) == 22


def test_empty_body_carries_a_digest(key):
    added = signing.sign_request("GET", URL, {}, b"", key, "dev-1")
    assert added["Content-Digest"] == "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"
    assert signing.verify_request("GET", URL, added, None, resolver_for(key)).key_id == "dev-1"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"method": "DELETE"}, signing.BAD_SIGNATURE),
        ({"url": URL.replace("device", "institution")}, signing.BAD_SIGNATURE),
        ({"url": URL.replace("/results", "/resultz")}, signing.BAD_SIGNATURE),
        ({"body": b'{"a": 2}'}, signing.BAD_CONTENT_DIGEST),
    ],
)
def test_tampering_is_refused(key, change, code):
    added = signing.sign_request("POST", URL, {}, b'{"a": 1}', key, "dev-1")
    args = {"method": "POST", "url": URL, "body": b'{"a": 1}'} | change
    with pytest.raises(signing.SignatureError) as err:
        signing.verify_request(args["method"], args["url"], added, args["body"], resolver_for(key))
    assert err.value.code == code


def test_other_key_is_a_bad_signature(key):
    added = signing.sign_request("GET", URL, {}, b"", signing.generate_device_key(), "dev-1")
    with pytest.raises(signing.SignatureError) as err:
        signing.verify_request("GET", URL, added, b"", resolver_for(key))
    assert err.value.code == signing.BAD_SIGNATURE


def test_unknown_key_and_missing_headers(key):
    added = signing.sign_request("GET", URL, {}, b"", key, "someone-else")
    with pytest.raises(signing.SignatureError) as err:
        signing.verify_request("GET", URL, added, b"", resolver_for(key))
    assert err.value.code == signing.UNKNOWN_DEVICE
    with pytest.raises(signing.SignatureError) as err:
        signing.verify_request("GET", URL, {"Content-Digest": added["Content-Digest"]}, b"", resolver_for(key))
    assert err.value.code == signing.SIGNATURE_REQUIRED


def test_clock_skew(key):
    created = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=301)
    added = signing.sign_request("GET", URL, {}, b"", key, "dev-1", created=created)
    with pytest.raises(signing.SignatureError) as err:
        signing.verify_request("GET", URL, added, b"", resolver_for(key), skew=300)
    assert err.value.code == signing.CLOCK_SKEW
    later = created + datetime.timedelta(seconds=250)
    assert signing.verify_request("GET", URL, added, b"", resolver_for(key), now=later, skew=300)


def test_httpx_auth_signs_what_is_sent(key):
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        verified = signing.verify_request(
            request.method, str(request.url), dict(request.headers), request.content, resolver_for(key)
        )
        seen["nonce"] = verified.nonce
        return httpx.Response(200, json={"ok": True})

    with httpx.Client(auth=signing.DeviceSignatureAuth(key, "dev-1"), transport=httpx.MockTransport(handler)) as client:
        assert client.post(URL, json={"x": "受付"}).status_code == 200
        assert seen["nonce"]
        assert client.get("https://clinic.example/api/v1/devices/me").status_code == 200


def test_public_key_must_be_32_bytes():
    with pytest.raises(ValueError):
        signing.load_public_key("AAAA")
    with pytest.raises(ValueError):
        signing.load_public_key("not base64!")


@pytest.mark.parametrize("raw", [bytes(32), b"\x01" + bytes(31), b"\xec" + b"\xff" * 30 + b"\x7f"])
def test_small_order_and_off_curve_public_keys_are_refused(raw):
    """Zero bytes (order 4), the identity and (0, -1) (order 2): keys of small order verify forged signatures."""
    import base64

    with pytest.raises(ValueError):
        signing.load_public_key(base64.b64encode(raw).decode())


# The generic http-message-signatures package is the reference: what it signs, we verify, and the other way round.


def _package_sign(key, *, method="POST", body=b'{"a": 1}', nonce="n-1", include_alg=True, created=None):
    from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms

    message = _Message(method, URL, {})
    HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={"dev-1": key}),
    ).sign(message, key_id="dev-1", nonce=nonce, label="sig1", include_alg=include_alg, created=created,
           covered_component_ids=signing.COVERED_COMPONENTS, body=body)  # fmt: skip
    return dict(message.headers)


class _Message:
    """The request shape the package reads: method, absolute URL, headers."""

    def __init__(self, method: str, url: str, headers: dict[str, str]):
        from http_message_signatures.structures import CaseInsensitiveDict

        self.method, self.url, self.headers = method, url, CaseInsensitiveDict(headers)


def test_we_sign_exactly_what_the_package_signs(key):
    created = datetime.datetime(2026, 11, 24, 3, 0, tzinfo=datetime.UTC)
    for method, body in (("POST", b'{"a": 1}'), ("GET", b"")):
        ours = signing.sign_request(method, URL, {}, body, key, "dev-1", created=created, nonce="n-1")
        assert ours == _package_sign(key, method=method, body=body, created=created)  # Ed25519 is deterministic


def test_the_package_verifies_what_we_sign(key):
    from http_message_signatures import HTTPMessageVerifier, MappingKeyResolver, algorithms

    added = signing.sign_request("POST", URL, {}, b'{"a": 1}', key, "dev-1")
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={"dev-1": key.public_key()}, private_keys={}),
    )
    [result] = verifier.verify(_Message("POST", URL, added), body=b'{"a": 1}')
    assert result.parameters["keyid"] == "dev-1"


def _flip_one_signature_byte(header: str) -> str:
    """Change one base64 character inside the signature value, never the label before it."""
    label, value = header.split("=:", 1)
    changed = "A" if value[10] != "A" else "B"
    return f"{label}=:{value[:10]}{changed}{value[11:]}"


def test_we_verify_what_the_package_signs_and_refuse_tampering(key):
    added = _package_sign(key, nonce="n-2", created=datetime.datetime.now(datetime.UTC))
    assert signing.verify_request("POST", URL, added, b'{"a": 1}', resolver_for(key)).nonce == "n-2"
    tampered = [
        ({"Signature-Input": added["Signature-Input"].replace('nonce="n-2"', 'nonce="n-3"')}, signing.BAD_SIGNATURE),
        ({"Signature-Input": added["Signature-Input"].replace('keyid="dev-1"', 'keyid="dev-2"')}, "unknown_device"),
        ({"Signature-Input": added["Signature-Input"].replace('"ed25519"', '"rsa-pss-sha512"')}, signing.BAD_SIGNATURE),
        ({"Signature-Input": added["Signature-Input"].replace(' "@query"', "")}, signing.BAD_SIGNATURE),
        ({"Signature": _flip_one_signature_byte(added["Signature"])}, signing.BAD_SIGNATURE),
        ({"Content-Digest": signing.content_digest(b'{"a": 2}')}, signing.BAD_SIGNATURE),
        ({"Content-Digest": "sha-512=:" + "A" * 86 + "==:"}, signing.BAD_CONTENT_DIGEST),
    ]  # fmt: skip
    for change, code in tampered:
        with pytest.raises(signing.SignatureError) as err:
            signing.verify_request("POST", URL, added | change, b'{"a": 1}', resolver_for(key))
        assert err.value.code == code, change


def test_a_signature_without_alg_and_another_parameter_order_verify(key):
    added = _package_sign(key, method="GET", body=b"", nonce="n-4", include_alg=False)
    assert "alg=" not in added["Signature-Input"]
    assert signing.verify_request("GET", URL, added, b"", resolver_for(key)).nonce == "n-4"


@pytest.mark.parametrize(
    ("signature_input", "code"),
    [
        ('sig1=("@method" "@path" "@query" "content-digest");created=1;created=2;keyid="dev-1";nonce="n"', "bad_signature"),
        ('sig1=("@method" "@path" "@query" "content-digest");created=0017;keyid="dev-1";nonce="n"', "bad_signature"),
        ('sig1=("@method" "@path" "@query" "content-digest");created=1;keyid="dev-1";nonce="n";tag="x"', "bad_signature"),
        ('sig1=("@method" "@path" "@query" "content-digest");created="1";keyid="dev-1";nonce="n"', "bad_signature"),
        ('sig1=("@method" "@path" "@query" "content-digest");created=1;keyid="dev-1"', "bad_signature"),
        ('sig1=("@method" "@path" "@query" "content-digest");created=1;keyid="dev-1";nonce="n", '
         'proxy=("@method");created=1;keyid="p"', "bad_signature"),
        ('sig2=("@method" "@path" "@query" "content-digest");created=1;keyid="dev-1";nonce="n"', "signature_required"),
        ("not a structured field", "signature_required"),
    ],
)
def test_what_is_not_the_profile_is_refused_with_its_code(key, signature_input, code):
    """Only the profile of docs/contracts.md, in its canonical form: nothing else reaches the key lookup."""
    headers = {"Signature-Input": signature_input, "Signature": "sig1=:" + "A" * 86 + "==:", "Content-Digest": "x"}
    with pytest.raises(signing.SignatureError) as err:
        signing.verify_request("GET", URL, headers, b"", lambda key_id: pytest.fail("the key was looked up"))
    assert err.value.code == code


@given(seed=st.binary(min_size=32, max_size=32))
@settings(max_examples=50)
def test_every_generated_public_key_is_accepted(seed):
    """The small-order check (RFC 8032 arithmetic) refuses no key a terminal makes."""
    key = signing.private_key_from_bytes(seed)
    assert signing.load_public_key(signing.public_key_b64(key)).public_bytes_raw() == key.public_key().public_bytes_raw()
