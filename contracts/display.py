"""Display wording of result codes (OQSCD tables), shared by the terminal, the console and exports."""

SEX = {"1": "男", "2": "女", "3": "未設定"}
PERSONAL_FAMILY = {"1": "本人", "2": "家族"}
VALIDITY = {
    "1": "有効",
    "2": "無効",
    "3": "無効（新しい資格あり）",
    "4": "該当資格なし",
    "5": "複数該当",
    "6": "有効（未登録）",
}
VALID_CODES = frozenset({"1", "6"})
IDENTITY_VERIFICATION = {
    "visual": "マイナンバーカード (目視)",
    "pin": "マイナンバーカード (暗証番号)",
    "iphone": "スマートフォン (iPhone)",
    "android": "スマートフォン (Android)",
}
CERTIFICATE_STATUS = {
    "valid": "有効",
    "expiring": "有効期限が残り3カ月未満",
    "grace_period": "有効期限経過後の猶予期間内",
}
REASON_OF_LOSS = {"01": "死亡", "02": "生活保護受給開始", "03": "医療保険等の資格取得", "99": "その他"}  # OQSCD008
LIMIT_CERTIFICATE_CLASS = {
    "01": "限度額適用認定証",
    "02": "限度額適用・標準負担額減額認定証",
    "03": "標準負担額減額認定証",
}
LIMIT_APPLICATION_CLASS = {
    "A01": "ア", "A02": "イ", "A03": "ウ", "A04": "エ", "A05": "オ", "A06": "オ（境）",
    "B01": "現役並みⅢ", "B02": "現役並みⅡ", "B03": "現役並みⅠ", "B04": "一般", "B05": "低所得Ⅱ",
    "B06": "低所得Ⅰ", "B07": "低所得Ⅰ（老福）", "B08": "低所得Ⅰ（境）", "B09": "一般Ⅱ", "B10": "一般Ⅰ",
}
SPECIFIC_DISEASE = {
    "1": "人工透析を必要とする慢性腎不全",
    "2": "先天性血液凝固因子障害（第VIII因子、第IX因子）",
    "3": "血液凝固因子製剤の投与に起因するHIV感染症",
}


def is_valid_qualification(validity_code: str) -> bool:
    """資格有効 for 1 (有効) and 6 (有効（未登録）, 医療扶助); 資格無効 otherwise."""
    return validity_code in VALID_CODES


def ratio_label(ratio: str | None) -> str | None:
    """'010' → '1割'."""
    if not ratio:
        return None
    tenths = int(ratio) // 10
    return f"{tenths}割"


PRESCHOOL = "義務教育就学前"  # 区分 of a child not yet at school; C-04-01-W also shows it as a notice


def category_label(qualification: dict) -> str:
    """区分 as the manual shows it; derived, onshi has no such code (onshi-data-model.md §3)."""
    if qualification.get("insured_card_classification") == "A1":
        return "医療扶助"
    if qualification.get("preschool_classification") == "1":
        return PRESCHOOL
    if qualification.get("elderly_recipient_certificate_info"):
        return "高齢受給者"
    return "一般"
