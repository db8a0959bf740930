"""accnb.urd: sessions recorded in the workdir, with the Accelerator's Urd API."""

from __future__ import annotations

import datetime
import multiprocessing

import pytest

from accnb import urd as urd_module
from accnb.urd import Urd, UrdConflictError, UrdError, recorded_jobs

COUNTER = """
options = dict(n=0)

def synthesis(options):
    return options.n
"""


@pytest.fixture
def urd(wd, write_method):
    write_method("counter", COUNTER)
    return Urd(wd, user="tester", verbose=False)


def _session(urd, key, ts, n, caption=None):
    urd.begin(key, ts, caption=caption)
    job = urd.build("counter", n=n)
    urd.finish(key)
    return job


def test_a_finished_session_records_its_joblist_caption_and_timestamp(urd):
    job = _session(urd, "counts", 1, 5, caption="five")
    got = urd.peek("counts", 1)
    assert got.timestamp == 1 and got.caption == "five"
    assert got.joblist == [job] and got.joblist.get("counter").load() == 5
    assert got.user == "tester" and got.build == "counts"


def test_sessions_survive_a_new_urd_on_the_same_workdir(urd, wd):
    job = _session(urd, "counts", 1, 5)
    again = Urd(wd, user="tester", verbose=False)
    assert again.peek_latest("counts").joblist == [job]
    assert again.list() == ["tester/counts"]


def test_latest_is_a_dependency_of_the_open_session(urd):
    first = _session(urd, "counts", 1, 1)
    urd.begin("counts", 2)
    assert urd.latest("counts").joblist.get("counter") == first
    urd.build("counter", n=2)
    urd.finish("counts")
    dep = urd.peek("counts", 2).deps["tester/counts"]
    assert dep.timestamp == 1 and dep.joblist == [first]


def test_latest_of_an_empty_list_is_false_with_an_empty_joblist(urd):
    urd.begin("counts", 1)
    latest = urd.latest("counts")
    assert not latest and latest.joblist.get("counter") is None
    urd.abort()


def test_get_first_and_since_order_int_timestamps(urd):
    for ts in (3, 1, 2):
        _session(urd, "counts", ts, ts)
    assert urd.since("counts", 0) == [1, 2, 3]
    assert urd.since("counts", 1) == [2, 3]
    assert urd.peek_first("counts").timestamp == 1
    urd.begin("other", 1)
    assert urd.get("counts", 2).joblist.get("counter").load() == 2
    urd.abort()
    urd.begin("other", 1)
    assert urd.first("tester/counts").timestamp == 1
    urd.abort()


def test_history_gives_each_session_after_a_timestamp_from_one_reading(urd, monkeypatch):
    jobs = {ts: _session(urd, "counts", ts, ts, caption=f"run {ts}") for ts in (3, 1, 2)}
    reads = []
    records = urd_module._Log.records
    monkeypatch.setattr(urd_module._Log, "records", lambda log: reads.append(1) or records(log))
    got = urd.history("counts", 1)
    assert [(s.timestamp, s.caption, s.joblist) for s in got] == [
        (2, "run 2", [jobs[2]]),
        (3, "run 3", [jobs[3]]),
    ]
    assert len(reads) == 1
    assert [s.timestamp for s in urd.history("tester/counts")] == [1, 2, 3]


def test_dates_datetimes_tuples_and_their_text_are_timestamps(urd):
    day = datetime.date(2024, 5, 1)
    moment = datetime.datetime(2024, 5, 1, 12, 0)
    for ts in (moment, (day, 2), day):
        _session(urd, "days", ts, 1)
    assert urd.since("days", 0) == [day, (day, 2), moment]
    assert urd.peek("days", "2024-05-01+2").timestamp == (day, 2)
    assert urd.peek("days", "2024-05-01T12:00").timestamp == moment


def test_a_timezone_aware_datetime_is_refused_naming_it(urd):
    aware = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)
    with pytest.raises(UrdError, match=r"2024, 5, 1, 12, 0.*naive \(UTC\) datetime"):
        urd.begin("days", aware)
    with pytest.raises(UrdError, match="naive"):
        urd.peek("days", "2024-05-01T12:00Z")
    assert urd.list() == []


def test_a_list_that_cannot_be_read_keeps_every_job_it_names_for_gc(urd, wd):
    kept = _session(urd, "good", 1, 1)
    named = _session(urd, "bad", 1, 2)
    bad = wd.path / "urd" / "tester" / "bad.jsonl"
    record = bad.read_text().replace('"timestamp": "1"', '"timestamp": "2024-05-01T12:00:00+00:00"')
    bad.write_text(record)
    with pytest.warns(UserWarning, match="tester/bad.*keeping every job"):
        found = recorded_jobs(wd.path)
    assert found[str(kept)] == "recorded in Urd list tester/good at 1"
    assert "tester/bad" in found[str(named)]


def test_a_horizon_hides_later_sessions_from_latest_but_not_from_first(urd, wd):
    for ts in (1, 2, 3):
        _session(urd, "counts", ts, ts)
    seen = Urd(wd, user="tester", horizon=2, verbose=False)
    assert seen.peek_latest("counts").timestamp == 2
    assert seen.peek_first("counts").timestamp == 1
    assert Urd(wd, user="tester", horizon=0, verbose=False).peek_first("counts").timestamp == 1


def test_a_date_horizon_shows_the_sessions_of_that_day(urd, wd):
    day = datetime.date(2024, 5, 1)
    for ts in ((day, 2), datetime.datetime(2024, 5, 1, 23, 0), datetime.date(2024, 5, 2)):
        _session(urd, "days", ts, 1)
    seen = Urd(wd, user="tester", horizon="2024-05-01", verbose=False)
    assert seen.peek_latest("days").timestamp == datetime.datetime(2024, 5, 1, 23, 0)
    at_noon = Urd(wd, user="tester", horizon="2024-05-01T12:00", verbose=False)
    assert at_noon.peek_latest("days").timestamp == (day, 2)


def test_truncate_removes_sessions_at_and_after_the_timestamp(urd, wd):
    for ts in (1, 2, 3):
        _session(urd, "counts", ts, ts)
    urd.truncate("counts", 2)
    assert urd.since("counts", 0) == [1]
    assert not urd.peek("counts", 2)
    urd.truncate("counts", 0)
    assert Urd(wd, user="tester").since("counts", 0) == []
    assert urd.list() == []


def test_the_same_session_again_is_no_change_another_one_a_conflict(urd):
    _session(urd, "counts", 1, 1)
    urd.begin("counts", 1)
    urd.build("counter", n=1)
    assert urd.finish("counts") == dict(new=False, changed=False)
    urd.begin("counts", 1)
    urd.build("counter", n=2)
    with pytest.raises(UrdConflictError, match="update=True"):
        urd.finish("counts")
    urd.begin("counts", 1, update=True)
    urd.build("counter", n=2)
    assert urd.finish("counts") == dict(new=False, changed=True)
    assert urd.peek("counts", 1).joblist.get("counter").load() == 2


def test_joblist_get_pretty_and_named_builds(urd):
    urd.begin("counts", 1)
    one = urd.build("counter", n=1)
    two = urd.build("counter", n=2, name="second")
    assert urd.joblist.get("counter") == one and urd.joblist["second"] == two
    assert urd.joblist.get("missing") is None
    with pytest.raises(KeyError, match="missing"):
        urd.joblist["missing"]
    assert urd.joblist.pretty == f"JobList(\n   [  0] counter : {one}\n   [  1]  second : {two}\n)"
    urd.finish("counts")
    assert urd.peek("counts", 1).joblist.names() == ["counter", "second"]


def test_build_chained_passes_the_named_job_of_the_session_read(urd, write_method):
    write_method(
        "chained",
        """
        jobs = ("previous",)

        def synthesis(jobs):
            return str(jobs.previous)
        """,
    )
    urd.begin("chain", 1)
    urd.latest("chain")
    first = urd.build_chained("chained", name="link")
    urd.finish("chain")
    urd.begin("chain", 2)
    urd.latest("chain")
    second = urd.build_chained("chained", name="link")
    urd.finish("chain")
    assert first.load() == "None" and second.load() == first


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda u: u.finish("counts"), "no session is open"),
        (lambda u: u.latest("counts"), "no session is open"),
        (lambda u: (u.begin("a", 1), u.begin("b", 1)), "still open"),
        (lambda u: (u.begin("a", 1), u.finish("b")), "the open session is 'tester/a'"),
        (lambda u: (u.begin("a"), u.build("counter"), u.finish("a")), "no timestamp"),
        (lambda u: (u.begin("a", 1), u.finish("a")), "built no jobs"),
        (lambda u: (u.begin("a", 0), u.build("counter"), u.finish("a")), "timestamp 0 is special"),
        (lambda u: u.since("a", -1), "bad Urd timestamp -1: use an int >= 0"),
        (lambda u: u.peek("a", "2024-05-01+-1"), "bad Urd timestamp"),
        (lambda u: u.begin("a", (datetime.date(2024, 5, 1), -1)), "bad Urd timestamp"),
        (
            lambda u: (
                u.begin("x", 1),
                u.build("counter"),
                u.finish("x"),
                u.begin("a", 1),
                u.latest("x"),
                u.latest("x"),
            ),
            "already read",
        ),
        (lambda u: u.begin("a", "yesterday"), "bad Urd timestamp"),
        (lambda u: u.peek("../a", 1), "bad Urd user"),
        (lambda u: u.build("counter", caption="x"), "caption= is not supported"),
    ],
)
def test_misuse_is_an_urd_error_saying_what_to_do(urd, call, message):
    with pytest.raises(UrdError, match=message):
        call(urd)


def _finish_many(workdir_path, methods_dir, start):
    import accnb
    from accnb.job import WORKDIRS

    WORKDIRS.clear()
    wd = accnb.Workdir(workdir_path, slices=2, methods=[methods_dir])
    urd = Urd(wd, user="tester", verbose=False)
    for ts in range(start, start + 50):
        urd.begin("busy", ts, caption="x" * 5000)
        urd.build("counter", n=1)  # reused: the parent built it
        urd.finish("busy")


def test_two_processes_finishing_sessions_at_once_lose_none(urd, wd, methods_dir):
    urd.workdir.build("counter", n=1)
    context = multiprocessing.get_context("fork")
    args = [(wd.path, methods_dir, start) for start in (1, 51)]
    procs = [context.Process(target=_finish_many, args=a) for a in args]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert [p.exitcode for p in procs] == [0, 0]
    assert urd.since("busy", 0) == list(range(1, 101))


def test_a_session_that_built_nothing_stays_open_to_build_in(urd):
    urd.begin("counts", 1)
    with pytest.raises(UrdError, match="built no jobs"):
        urd.finish("counts")
    job = urd.build("counter", n=1)
    urd.finish("counts")
    assert urd.peek("counts", 1).joblist == [job]


def test_accnb_urd_reads_each_list_once_and_a_named_list_without_the_others(
    urd, wd, monkeypatch, capsys
):
    from accnb import cli

    for key in ("counts", "other", "third"):
        _session(urd, key, 1, 1, caption=key)
    _session(urd, "counts", 2, 2)
    monkeypatch.setenv("USER", "tester")
    capsys.readouterr()  # what the builds printed
    reads = []
    records = urd_module._Log.records
    monkeypatch.setattr(
        urd_module._Log, "records", lambda log: reads.append(log.file) or records(log)
    )

    assert cli.main(["urd", "--workdir", str(wd.path)]) == 0
    listed = capsys.readouterr().out.split()
    assert listed == ["tester/counts", "2", "sessions", "tester/other", "1", "sessions",
                      "tester/third", "1", "sessions"]  # fmt: skip
    assert sorted(file.stem for file in reads) == ["counts", "other", "third"]

    reads.clear()
    assert cli.main(["urd", "--workdir", str(wd.path), "counts/2"]) == 0
    assert "counts" in capsys.readouterr().out
    assert {file.stem for file in reads} == {"counts"}  # "counts/2" is no list: NAME/TS
    assert cli.main(["urd", "--workdir", str(wd.path), "no such/list/at/all"]) == cli.EXIT_USAGE
    assert "no Urd list" in capsys.readouterr().err
