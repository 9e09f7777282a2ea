"""画面番号 of every screen and dialog (T29), listed in ``terminal_agent/README.md``.

The manual gives C-04-01-W (資格確認結果), D-10-W (資格確認結果検索) and C-04-02-A (the alert of the qualification
query, e.g. E-C-04-02-A-6002 保険証未登録); every other number is this app's own, in the same pattern: a group letter
(A 初期設定, B 起動・ログイン, C 資格確認, D 検索, E セキュリティ設定, F お知らせ, G 規約など, H カードリーダー,
Z the whole app), the screen's number, and ``-W`` for a window (screen) or ``-A`` for an alert (dialog). A dialog
carries the number of the screen it belongs to plus its own: A-02-01-A is the first dialog of A-02-W.
"""

# --- screens (-W) ---------------------------------------------------------------------------------------------------
TERMS = "A-01-W"
INITIAL_REGISTRATION = "A-02-W"
PASSCODE_SETUP = "A-03-W"
PASSCODE_LOGIN = "B-01-W"
PASSCODE_VERIFY = "B-02-W"
SYSTEM_LOGIN = "B-03-W"
VERSION_UPDATE = "B-04-W"
METHOD_SELECT = "C-01-W"
PIN_ENTRY = "C-02-W"
CARD_READ = "C-03-W"
RESULT = "C-04-01-W"
INSURANCE_CHOICE = "C-05-01-W"
INSURANCE_TERMS = "C-05-02-W"
RESULT_SEARCH = "D-10-W"
SECURITY_SETTINGS = "E-01-W"
ACCOUNT_PASSWORD = "E-02-W"
PASSCODE_CHANGE = "E-03-W"
NOTICE_LIST = "F-01-W"
NOTICE = "F-02-W"
DOCUMENTS = {"terms": "G-01-W", "privacy": "G-02-W", "licenses": "G-03-W"}
READER_SELECT = "H-01-W"

# --- dialogs (-A) ---------------------------------------------------------------------------------------------------
REGISTERED = "A-02-01-A"  # 初期登録が完了しました。
REGISTRATION_ERROR = "A-02-02-A"
PASSCODE_SET = "A-03-01-A"  # パスコードを登録しました。
LOGIN_ERROR = "B-03-01-A"  # システムログイン: wrong password, lockout
METHOD_CONFIRM = "C-01-01-A"  # 暗証番号 / iPhone / Android: the confirmation before the read
CONSENT_CONFIRM = "C-01-02-A"  # 特定疾病療養受療証情報を表示: the patient's consent
CHECK_REFUSED = "C-01-03-A"  # offline or below the minimum version: refused before the card is read
PIN_LOCKED = "C-03-01-A"
READ_ERROR = "C-03-02-A"  # the card, the network or the service during the read
QUERY_ALERT = "C-04-02-A"  # the manual's: 保険証未登録 (6002) and the other coded answers of the query
INSURANCE_COMPLETED = "C-05-01-A"  # 健康保険証利用登録が完了 → 資格確認する
INSURANCE_PROCESSING = "C-05-02-A"
INSURANCE_FAILED = "C-05-03-A"
INSURANCE_ERROR = "C-05-04-A"  # the registration's read or request failed
DEREGISTER_CONFIRM = "E-01-01-A"
DEREGISTERED = "E-01-02-A"  # デバイスの登録を解除しました。
DEREGISTER_ERROR = "E-01-03-A"
LOGOUT_CONFIRM = "E-01-04-A"
PASSWORD_CHANGED = "E-02-01-A"
PASSWORD_ERROR = "E-02-02-A"
PASSCODE_CHANGED = "E-03-01-A"
READER_SELECTED = "H-01-01-A"  # カードリーダーが選択されました。
READER_ERROR = "H-01-02-A"
STORE_ERROR = "B-04-01-A"  # ストアページを開けなかった
NOT_REGISTERED = "Z-01-A"  # the device was deregistered or retired: back to 初期登録
UNEXPECTED = "Z-02-A"
