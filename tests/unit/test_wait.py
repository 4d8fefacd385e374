"""The wait schedule and a finished job's answer (pure)."""

from __future__ import annotations

import itertools

import pytest

from bridge import Finished, JobState, ValidationError, WaitTimeout
from bridge.wire.job import Job
from bridge.wire.recorded import encode_recorded
from bridge.wire.wait import check_timeout, finished, is_final, job_id_of, poll_delays


def test_poll_backs_off_from_10ms_to_250ms() -> None:
    delays = list(itertools.islice(poll_delays(), 12))
    assert delays[0] == 0.01 and delays[1] == pytest.approx(0.015)
    assert delays == sorted(delays) and max(delays) == 0.25 and delays[-1] == 0.25


@pytest.mark.parametrize("bad", [0, -1, True, "5", float("nan")])
def test_timeout_is_checked(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        check_timeout(bad)
    assert info.value.field == "timeout"


def test_timeout_none_means_no_limit() -> None:
    assert check_timeout(None) is None and check_timeout(2) == 2.0


def test_job_id_is_checked_before_io() -> None:
    with pytest.raises(ValidationError):
        job_id_of(0)
    assert job_id_of(Job(7, JobState.AVAILABLE, "q", "W", {})) == 7


def _job(state: JobState, meta: dict[str, object] | None = None) -> Job:
    return Job(1, state, "q", "W", {}, meta=meta or {})


def test_final_states() -> None:
    finals = {s for s in JobState if is_final(_job(s))}
    assert finals == {JobState.COMPLETED, JobState.DISCARDED, JobState.CANCELLED}


def test_finished_decodes_recorded_output() -> None:
    meta = {"recorded": True, "return": encode_recorded({"n": 1}), "other": 2}
    done = finished(_job(JobState.COMPLETED, meta))
    assert done == Finished(done.job, True, {"n": 1}) and done.completed
    assert done.state is JobState.COMPLETED


def test_finished_without_recording() -> None:
    done = finished(_job(JobState.DISCARDED, {"recorded": True}))
    assert not done.recorded and done.value is None and not done.completed


def test_wait_timeout_names_job_and_state() -> None:
    error = WaitTimeout(42, "executing", 1.5)
    assert isinstance(error, TimeoutError)
    assert str(error) == "job 42 did not finish within 1.5s (last state: executing)"
