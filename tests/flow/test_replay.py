"""`make replay` on a sample: the year month by month under three policies, end to end.

It calls the library functions the flows' tasks call; a change to any of them that the
replay does not follow fails here, not in front of a user running `make replay`.
"""

import math

import pytest

from bench.replay import replay, replay_config
from retrainer.boundaries.settings import Home

pytestmark = [pytest.mark.flow, pytest.mark.slow]


def test_the_replay_serves_every_month_under_each_policy(tmp_path):
    config = replay_config()
    config.split.min_train_rows = 100  # every 60th flight: about 450 a month
    runs = {run.policy: run for run in replay(Home(tmp_path / "replay"), config, 60, 1)}

    assert set(runs) == {"never", "monthly", "on-alarm"}
    for run in runs.values():
        assert [m.period for m in run.months] == [f"2013-{m:02d}" for m in range(4, 13)]
        assert all(m.realised is not None and math.isfinite(m.realised) for m in run.months)
    assert runs["never"].retrains == 0 and runs["never"].promotions == 0
    assert runs["monthly"].retrains == 9
    assert runs["on-alarm"].retrains <= runs["monthly"].retrains
    decided = [m.decision for run in runs.values() for m in run.months if m.decision]
    assert decided and set(decided) <= {"promoted", "rejected", "not compared"}
