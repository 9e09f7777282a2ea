"""contracts.signing: the RFC 9421 profile of docs/contracts.md, signed and verified without Django."""

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
    """Zero bytes (order 4), the identity and (0, -1) (order 2): libsodium verifies no signature with them."""
    import base64

    with pytest.raises(ValueError):
        signing.load_public_key(base64.b64encode(raw).decode())


# The strict path (our profile in canonical form) and the generic package (the reference) must agree.


@pytest.fixture(params=["strict", "generic"])
def verify_path(request, monkeypatch):
    if request.param == "generic":
        monkeypatch.setattr(signing, "_strict_parse", lambda signature_input, signature: None)
    return request.param


def test_strict_signer_writes_what_the_package_writes(key):
    created = datetime.datetime(2026, 11, 24, 3, 0, tzinfo=datetime.UTC)
    for method, body in (("POST", b'{"a": 1}'), ("GET", b"")):
        strict = signing.sign_request(method, URL, {}, body, key, "dev-1", created=created, nonce="n-1")
        generic = signing._sign_generic(method, URL, body, key, "dev-1", created=created, nonce="n-1")
        assert strict == generic  # Ed25519 is deterministic: same base, same signature
        assert signing._strict_parse(strict["Signature-Input"], strict["Signature"]) is not None  # the fast path


def test_package_verifier_accepts_what_the_strict_signer_writes(key):
    from http_message_signatures import HTTPMessageVerifier, MappingKeyResolver, algorithms

    added = signing.sign_request("POST", URL, {}, b'{"a": 1}', key, "dev-1")
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={"dev-1": key.public_key()}, private_keys={}),
    )
    [result] = verifier.verify(signing._Message("POST", URL, added), body=b'{"a": 1}')
    assert result.parameters["keyid"] == "dev-1"


def test_both_paths_verify_the_packages_signature_and_refuse_tampering(key, verify_path):
    created = datetime.datetime.now(datetime.UTC)
    added = signing._sign_generic("POST", URL, b'{"a": 1}', key, "dev-1", created=created, nonce="n-2")
    assert signing.verify_request("POST", URL, added, b'{"a": 1}', resolver_for(key)).nonce == "n-2"
    tampered = [
        ({"Signature-Input": added["Signature-Input"].replace('nonce="n-2"', 'nonce="n-3"')}, signing.BAD_SIGNATURE),
        ({"Signature-Input": added["Signature-Input"].replace('keyid="dev-1"', 'keyid="dev-2"')}, "unknown_device"),
        ({"Signature-Input": added["Signature-Input"].replace('"ed25519"', '"rsa-pss-sha512"')}, signing.BAD_SIGNATURE),
        ({"Signature-Input": added["Signature-Input"].replace(' "@query"', "")}, signing.BAD_SIGNATURE),
        ({"Signature": added["Signature"].replace(added["Signature"][10], "A" if added["Signature"][10] != "A" else "B")},
         signing.BAD_SIGNATURE),
        ({"Content-Digest": signing.content_digest(b'{"a": 2}')}, signing.BAD_SIGNATURE),
    ]  # fmt: skip
    for change, code in tampered:
        with pytest.raises(signing.SignatureError) as err:
            signing.verify_request("POST", URL, added | change, b'{"a": 1}', resolver_for(key))
        assert err.value.code == code, (verify_path, change)


@pytest.mark.parametrize(
    "signature_input",
    [
        'sig1=("@method" "@path" "@query" "content-digest");created=1;created=2;keyid="dev-1";nonce="n"',
        'sig1=("@method" "@path" "@query" "content-digest");created=0017;keyid="dev-1";nonce="n"',
        'sig1=("@method" "@path" "@query" "content-digest");created=1;keyid="dev-1";nonce="n";tag="x"',
        'sig1=("@method" "@path" "@query" "content-digest");created="1";keyid="dev-1";nonce="n"',
        'sig1=("@method" "@path" "@query" "content-digest");created=1;keyid="dev-1"',
    ],
)
def test_strict_parser_declines_what_is_not_the_canonical_profile(signature_input):
    assert signing._strict_parse(signature_input, "sig1=:" + "A" * 86 + "==:") is None


def test_signature_without_alg_is_verified_on_both_paths(key, verify_path):
    from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms

    message = signing._Message("GET", URL, {})
    HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={"dev-1": key}),
    ).sign(message, key_id="dev-1", nonce="n-4", label="sig1", include_alg=False,
           covered_component_ids=signing.COVERED_COMPONENTS, body=b"")  # fmt: skip
    assert "alg=" not in message.headers["Signature-Input"]
    verified = signing.verify_request("GET", URL, dict(message.headers), b"", resolver_for(key))
    assert verified.nonce == "n-4"


@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=512))
@settings(max_examples=50)
def test_libsodium_signs_and_verifies_exactly_as_openssl(seed, message):
    """The strict path signs and verifies with libsodium; Ed25519 is deterministic, so both libraries must agree."""
    key = signing.private_key_from_bytes(seed)
    signature = signing._ed25519_sign(key, message)
    assert signature == key.sign(message)
    key.public_key().verify(signature, message)  # OpenSSL accepts libsodium's signature (raises otherwise)
