import pytest

from terminal_agent.core import passcode
from terminal_agent.core.registration import RegistrationForm, validate


def test_passcode_hash_never_contains_the_passcode():
    stored = passcode.new_passcode_hash("4821", "4821")
    assert "4821" not in stored
    assert stored.startswith("scrypt$")
    assert passcode.verify_passcode("4821", stored)
    assert not passcode.verify_passcode("4822", stored)


@pytest.mark.parametrize(("first", "second", "message"), [
    ("12a4", "12a4", passcode.MSG_FORMAT),
    ("１２３４", "１２３４", passcode.MSG_FORMAT),
    ("1234", "1243", passcode.MSG_MISMATCH),
])
def test_passcode_errors(first, second, message):
    with pytest.raises(passcode.PasscodeError) as info:
        passcode.new_passcode_hash(first, second)
    assert info.value.message == message


def test_registration_required_fields():
    errors = validate(RegistrationForm())
    assert errors == {
        "institution_code": ["機関コードを入力してください。"],
        "account_id": ["IDを入力してください。"],
        "password": ["パスワードを入力してください。"],
        "activation_code": ["アクティベーションコードを入力してください。"],
    }


def test_registration_formats():
    errors = validate(RegistrationForm("131100001", "clinic-admin", "Demo#Pass1", "1234-5678-9012"))
    assert errors["institution_code"] == ["機関コードは半角数字10桁で入力してください。"]
    assert errors["activation_code"] == ["アクティベーションコードは、「-(ハイフン)」なし、半角数字12桁で入力してください。"]
    # Full-width digits are not half-width digits.
    assert "activation_code" in validate(RegistrationForm("1311000010", "a", "b", "１２３４５６７８９０１２"))
    # A wrong check digit.
    assert validate(RegistrationForm("1311000011", "a", "b", "123456789012"))["institution_code"] == [
        "機関コードが正しくありません。入力内容を確認してください。"
    ]
    assert validate(RegistrationForm("1311000010", "clinic-admin", "Demo#Pass1", "123456789012")) == {}
