"""The 利用規約 a patient accepts before 健康保険証利用登録 with a physical card (T27, manual P.35).

The national service words its own terms; this synthetic text stands in for them, like the rest of the sandbox.
"""

from __future__ import annotations

VERSION = "1.0"
TITLE = "健康保険証利用登録 利用規約"
BODY = (
    "マイナンバーカードを健康保険証として利用するための登録(以下「利用登録」)について、次のとおり定めます。\n\n"
    "1. 利用登録は、マイナンバーカードの利用者証明用電子証明書を用いて、患者本人の同意のもとで行います。\n"
    "2. 利用登録後は、医療機関等の窓口でマイナンバーカードにより医療保険の資格を確認できます。\n"
    "3. 利用登録の処理には時間がかかる場合があります。処理中は資格確認を行えません。\n"
    "4. 利用登録に失敗した場合は、同じマイナンバーカードを使用して、再度利用登録を行ってください。\n\n"
    "(これはサンドボックス用の架空の文面です。)"
)


def registration_terms() -> dict[str, str]:
    return {"version": VERSION, "title": TITLE, "body": BODY}
