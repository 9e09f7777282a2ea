import datetime as dt

import pytest

from terminal_agent.core.search import MSG_PERIOD, SearchCriteria, SearchError, allowed_range
from terminal_agent.core.store import LocalStore
from terminal_agent.core.sync import SyncRelay


def test_period_rule_first_of_previous_month_to_today():
    assert allowed_range(dt.date(2026, 1, 15)) == (dt.date(2025, 12, 1), dt.date(2026, 1, 15))
    assert allowed_range(dt.date(2026, 3, 1)) == (dt.date(2026, 2, 1), dt.date(2026, 3, 1))
    ok = SearchCriteria(dt.date(2025, 12, 1), dt.date(2026, 1, 15))
    ok.validate(dt.date(2026, 1, 15))
    with pytest.raises(SearchError) as info:
        SearchCriteria(dt.date(2025, 11, 30), dt.date(2026, 1, 15)).validate(dt.date(2026, 1, 15))
    assert info.value.message == MSG_PERIOD
    with pytest.raises(SearchError):
        SearchCriteria(dt.date(2026, 1, 1), dt.date(2026, 1, 16)).validate(dt.date(2026, 1, 15))


def test_default_is_last_30_days_clipped():
    default = SearchCriteria.default(dt.date(2026, 1, 31))
    assert (default.date_from, default.date_to) == (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert default.this_device_only and default.params()["scope"] == "device"
    clipped = SearchCriteria.default(dt.date(2026, 3, 1))  # 30 days back is Jan 30: before Feb 1
    assert clipped.date_from == dt.date(2026, 2, 1)


def test_backoff_grows_with_jitter_and_a_cap(tmp_path):
    relay = SyncRelay(LocalStore(tmp_path), api=None, base_delay=2, max_delay=60, rng=lambda: 1.0)  # type: ignore[arg-type]
    assert [relay.backoff_delay(n) for n in range(6)] == [2, 4, 8, 16, 32, 60]
    low = SyncRelay(LocalStore(tmp_path), api=None, base_delay=2, max_delay=60, rng=lambda: 0.0)  # type: ignore[arg-type]
    assert low.backoff_delay(3) == 8  # half the step is fixed, half is jitter
