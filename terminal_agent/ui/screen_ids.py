"""画面番号 of every screen (T29). The manual gives C-04-01-W (資格確認結果) and D-10-W (資格確認結果検索); the other
numbers are this app's own, in the same pattern, so that staff can always name the screen they are on."""

TERMS = "A-01-W"
INITIAL_REGISTRATION = "A-02-W"
PASSCODE_SETUP = "A-03-W"
PASSCODE_LOGIN = "B-01-W"
METHOD_SELECT = "C-01-W"
PIN_ENTRY = "C-02-W"
CARD_READ = "C-03-W"
RESULT = "C-04-01-W"
RESULT_SEARCH = "D-10-W"
PASSCODE_VERIFY = "B-02-W"
SECURITY_SETTINGS = "E-01-W"
