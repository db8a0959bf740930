"""DaskExecutor: analysis slices as tasks on a Dask cluster, giving what the fork executor gives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip(
    "distributed", reason="dask[distributed] is not installed: pip install 'accnb[dask]'"
)

import images  # noqa: E402
from processes import alive  # noqa: E402

import accnb  # noqa: E402
from accnb import JobError  # noqa: E402
from accnb.dask_executor import DaskExecutor  # noqa: E402
from accnb.job import FAILED  # noqa: E402
from accnb.store import FINISHED  # noqa: E402

SUMS = """
options = dict(n=10)

def prepare(options):
    return {"limit": options.n, "scale": 3}

def analysis(sliceno, slices, prepare_res):
    print("slice", sliceno, "sums")
    return sum(range(sliceno, prepare_res["limit"], slices)) * prepare_res["scale"]

def synthesis(analysis_res):
    return sorted(analysis_res)
"""

# Writers made in prepare, one used through prepare_res and one found by name in analysis,
# with the column types whose files differ most in layout.
WRITES = """
import datetime
from accnb.dataset import DatasetWriter

def prepare(job):
    rows = job.datasetwriter(hashlabel="key")
    rows.add("key", "int64")
    rows.add("name", "unicode")
    rows.add("blob", "bytes")
    rows.add("ratio", ("float64", True))
    rows.add("meta", "json")
    rows.add("big", "number")
    rows.add("when", "datetime")
    DatasetWriter(name="per_slice", columns={"sliceno": "int32"})
    return rows

def analysis(sliceno, prepare_res):
    start = datetime.datetime(2024, 6, 1)
    for key in range(300):
        if prepare_res.hashcheck(key):
            prepare_res.write(
                key,
                f"name {key} \\u00e9",
                bytes([key % 256]) * (key % 7),
                None if key % 11 == 0 else key / 7,
                {"key": key, "odd": key % 2 == 1},
                key ** 9,
                start + datetime.timedelta(minutes=key),
            )
    DatasetWriter(name="per_slice").write(sliceno)
"""


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes of one thread each, for the whole module; a Client in this
    process too, as a notebook would hold one (the job processes fork from it)."""
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture
def executor(cluster) -> DaskExecutor:
    cluster.wait_for_workers(2, timeout=60)  # a test kills a worker; its nanny starts another
    return DaskExecutor(cluster)


@pytest.fixture
def dask_wd(tmp_path: Path, methods_dir: Path, executor: DaskExecutor):
    workdir = accnb.Workdir(tmp_path / "dwd", slices=2, methods=[methods_dir], executor=executor)
    yield workdir
    workdir.close()


def _quiet(part: str, text: str) -> None:
    pass


def _finished_jobs(workdir: accnb.Workdir) -> list[Path]:
    return [p for p in workdir.path.iterdir() if (p / FINISHED).exists()]


def _dataset_files(job: accnb.Job, prefix: str = "") -> dict[str, bytes]:
    base = job.path / "datasets"
    return {
        prefix + str(p.relative_to(base)): p.read_bytes() for p in base.rglob("*") if p.is_file()
    }


def test_results_and_output_equal_those_of_the_fork_executor(wd, dask_wd, write_method):
    write_method("sums", SUMS)
    forked = wd.build("sums", n=1000, relay=_quiet)
    on_dask = dask_wd.build("sums", n=1000, relay=_quiet)
    assert on_dask.load() == forked.load() == sorted([249500 * 3, 250000 * 3])
    assert on_dask.output() == forked.output() == "slice 0 sums\nslice 1 sums\n"


def test_the_same_builds_write_byte_identical_dataset_files(
    tmp_path, methods_dir, write_method, executor
):
    """Writers made in prepare, and split writers in analysis (dataset_hashpart: each slice
    writes parts that the job process joins)."""
    write_method("writes", WRITES)
    files = {}
    for name, chosen in (("fork", None), ("dask", executor)):
        # Same workdir name, so the same job ids, which the dataset metadata records.
        with accnb.Workdir(
            tmp_path / name / "wd", slices=2, methods=[methods_dir], executor=chosen
        ) as workdir:
            source = workdir.build("writes", relay=_quiet)
            hashed = workdir.build("dataset_hashpart", source=source, hashlabel="name")
            assert hashed.dataset().hashlabel == "name" and sum(hashed.dataset().lines) == 300
            files[name] = {**_dataset_files(source), **_dataset_files(hashed, "hashed/")}
    assert any(name.startswith("default/") and "c2" in name for name in files["fork"])
    assert sorted(files["dask"]) == sorted(files["fork"])
    assert [n for n in files["fork"] if files["dask"][n] != files["fork"][n]] == []


def test_the_thumbnailer_makes_the_same_thumbnails_on_dask(tmp_path, executor):
    """Its prepare_res holds SharedRows, which pickles into one that shares nothing: each
    slice on a worker makes its own rows' thumbnails."""
    images.sample_folder(tmp_path / "photos")
    thumbs = {}
    for name, chosen in (("fork", None), ("dask", executor)):
        with accnb.Workdir(tmp_path / name, slices=2, executor=chosen) as workdir:
            imported = workdir.build("import_images", directory=str(tmp_path / "photos"))
            made = workdir.build("thumbnailer", source=imported, size=(16, 16), relay=_quiet)
            ds = made.dataset()
            thumbs[name] = [list(ds.iterate(s, ("filename", "thumb"))) for s in range(2)]
    assert all(thumbs["fork"]) and thumbs["dask"] == thumbs["fork"]


@pytest.mark.parametrize("first", ["fork", "dask"])
def test_a_build_on_one_executor_is_reused_on_the_other(
    first, wd, methods_dir, write_method, executor
):
    write_method("sums", SUMS)
    # The same folder, opened with each executor in turn.
    on_dask = accnb.Workdir(wd.path, slices=2, methods=[methods_dir], executor=executor)
    builders = {"fork": wd, "dask": on_dask}
    second = "dask" if first == "fork" else "fork"
    built = builders[first].build("sums", n=77, relay=_quiet)
    again = builders[second].build("sums", n=77, relay=_quiet)
    assert again == built and not built.reused and again.reused
    assert len(wd.jobs()) == 1


def test_output_is_relayed_while_the_slices_run(dask_wd, write_method, tmp_path):
    flag = tmp_path / "seen"
    write_method(
        "waits",
        f"""
        import os, time
        def analysis(sliceno):
            print("started", sliceno, flush=True)
            deadline = time.monotonic() + 20
            while not os.path.exists({str(flag)!r}):
                assert time.monotonic() < deadline, "the relay did not see the output in time"
                time.sleep(0.01)
    """,
    )
    seen = []

    def relay(part, text):
        seen.append((part, text))
        flag.touch()  # the slices only finish once their output reached us

    dask_wd.build("waits", relay=relay)
    assert ("0", "started 0\n") in seen and ("1", "started 1\n") in seen


def test_a_failing_slice_raises_job_error_naming_the_slice_and_the_method_line(
    dask_wd, write_method
):
    path = write_method(
        "fails",
        """
        def analysis(sliceno):
            if sliceno == 1:
                values = {}
                return values["missing"]
    """,
    )
    with pytest.raises(JobError) as err:
        dask_wd.build("fails", relay=_quiet)
    e = err.value
    assert e.part == "analysis(1)" and e.sliceno == 1
    assert e.exc_type == "KeyError" and "missing" in e.exc_message
    assert f'File "{path}", line 5, in analysis' in e.method_traceback
    assert "accnb/" not in e.method_traceback
    assert _finished_jobs(dask_wd) == []


def test_the_other_slices_are_stopped_when_one_fails(dask_wd, write_method, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    write_method(
        "stuck",
        f"""
        import os, time
        def analysis(sliceno):
            open(os.path.join({str(marks)!r}, f"started.{{sliceno}}"), "w").close()
            if sliceno == 0:
                time.sleep(60)
                open(os.path.join({str(marks)!r}, "slept"), "w").close()
            while len(os.listdir({str(marks)!r})) < 2:
                time.sleep(0.01)
            raise ValueError("slice 1 gives up")
    """,
    )
    started = time.monotonic()
    with pytest.raises(JobError, match="analysis\\(1\\)"):
        dask_wd.build("stuck", relay=_quiet)
    assert time.monotonic() - started < 30  # did not wait for the sleeping slice
    time.sleep(0.5)
    assert not (marks / "slept").exists()
    assert _finished_jobs(dask_wd) == []


def test_an_interrupted_build_stops_the_slices_on_the_workers(
    dask_wd, write_method, tmp_path, interruptible
):
    pids = tmp_path / "pids"
    pids.mkdir()
    write_method(
        "long",
        f"""
        import os, time
        def analysis(sliceno):
            open(os.path.join({str(pids)!r}, str(os.getpid())), "w").close()
            time.sleep(60)
    """,
    )

    def interrupt_when_running():
        deadline = time.monotonic() + 20
        while len(list(pids.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_when_running, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        dask_wd.build("long", relay=_quiet)
    interrupted = time.monotonic()
    slices = [int(p.name) for p in pids.iterdir()]
    assert len(slices) == 2
    while any(alive(pid) for pid in slices):
        assert time.monotonic() - interrupted < 5, "a slice outlived the interrupt by 5 s"
        time.sleep(0.02)
    assert _finished_jobs(dask_wd) == []


def test_a_killed_builder_takes_its_slices_on_the_workers_along(
    wd, write_method, methods_dir, tmp_path, executor
):
    pids = tmp_path / "pids"
    pids.mkdir()
    write_method(
        "orphan",
        f"""
        import os, time
        def analysis(sliceno):
            open(os.path.join({str(pids)!r}, str(os.getpid())), "w").close()
            time.sleep(60)
    """,
    )
    # Killed with its builder, the job process leaves no FAILED.json: the workers see
    # that Dask cancelled the tasks of a client that left.
    builder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import accnb; from accnb.dask_executor import DaskExecutor; "
            f"accnb.Workdir({str(wd.path)!r}, slices=2, methods=[{str(methods_dir)!r}], "
            f"executor=DaskExecutor({executor.address!r})).build('orphan')",
        ]
    )
    deadline = time.monotonic() + 30
    while len(list(pids.iterdir())) < 2:
        assert time.monotonic() < deadline and builder.poll() is None, "the build did not start"
        time.sleep(0.02)
    builder.kill()
    builder.wait()
    killed = time.monotonic()
    slices = [int(p.name) for p in pids.iterdir()]
    while any(alive(pid) for pid in slices):
        assert time.monotonic() - killed < 5, "a slice outlived its builder by 5 s"
        time.sleep(0.02)
    assert not (wd.path / wd.jobs()[0] / FAILED).exists()


def test_an_unpicklable_prepare_res_is_refused_naming_where_it_fails(dask_wd, write_method):
    write_method(
        "locked",
        """
        import threading
        def prepare():
            return {"rows": [1, 2, 3], "lock": threading.Lock()}

        def analysis(sliceno, prepare_res):
            return sliceno
    """,
    )
    with pytest.raises(JobError) as err:
        dask_wd.build("locked", relay=_quiet)
    message = str(err.value)
    assert "prepare_res['lock'] can not be sent to the Dask workers" in message
    assert "lock" in err.value.exc_message and "must pickle" in message
    assert _finished_jobs(dask_wd) == []


def test_a_slice_process_killed_fails_the_job_naming_the_slice(dask_wd, write_method):
    write_method(
        "oom",
        """
        import os, signal
        def analysis(sliceno):
            if sliceno == 1:
                os.kill(os.getpid(), signal.SIGKILL)
    """,
    )
    with pytest.raises(JobError, match="slice 1 was killed by SIGKILL") as err:
        dask_wd.build("oom", relay=_quiet)
    assert err.value.part == "analysis(1)"
    assert _finished_jobs(dask_wd) == []


def test_a_worker_lost_mid_slice_fails_the_job_naming_the_slice(dask_wd, write_method):
    write_method(
        "lost",
        """
        import os, signal
        def analysis(sliceno):
            if sliceno == 1:
                print("about to take the worker down", flush=True)
                os.kill(os.getppid(), signal.SIGKILL)  # the slice's parent is the Dask worker
                signal.pause()  # the worker's death takes this process along
    """,
    )
    with pytest.raises(JobError) as err:
        dask_wd.build("lost", relay=_quiet)
    assert err.value.part == "analysis(1)"
    assert "worker" in err.value.exc_message
    assert _finished_jobs(dask_wd) == []


def test_a_helper_module_from_a_cell_reaches_the_workers(dask_wd):
    dask_wd.module("pricing", "RATE = 7\ndef price(n):\n    return n * RATE\n")
    dask_wd.method(
        "priced",
        "import pricing\n\ndef analysis(sliceno):\n    return pricing.price(sliceno + 1)\n\n"
        "def synthesis(analysis_res):\n    return list(analysis_res)\n",
    )
    assert dask_wd.build("priced", relay=_quiet).load() == [7, 14]


def test_a_writer_with_a_parent_made_in_prepare_extends_it_on_the_workers(dask_wd, write_method):
    write_method("writes", WRITES)
    write_method(
        "doubles",
        """
        datasets = ("source",)
        def prepare(job, datasets):
            dw = job.datasetwriter(parent=datasets.source)
            dw.add("double", "int64")
            return dw
        def analysis(sliceno, datasets, prepare_res):
            for key in datasets.source.iterate(sliceno, "key"):
                prepare_res.write(key * 2)
    """,
    )
    source = dask_wd.build("writes", relay=_quiet)
    ds = dask_wd.build("doubles", source=source, relay=_quiet).dataset()
    assert sorted(ds.iterate(None, ("key", "double"))) == [(k, 2 * k) for k in range(300)]
    assert ds.lines == source.dataset().lines


def test_a_method_file_imports_the_files_beside_it_on_the_workers(
    dask_wd, write_method, methods_dir
):
    (methods_dir / "rates.py").write_text("RATE = 5\n")
    write_method(
        "relative",
        """
        from . import rates
        def analysis(sliceno):
            return rates.RATE * (sliceno + 1)
        def synthesis(analysis_res):
            return list(analysis_res)
    """,
    )
    assert dask_wd.build("relative", relay=_quiet).load() == [5, 10]


def test_a_dataset_finished_in_prepare_reaches_the_slices_in_prepare_res(dask_wd, write_method):
    write_method(
        "early",
        """
        from accnb.dataset import Dataset
        def prepare(job):
            dw = job.datasetwriter(name="early", columns={"v": "int64"})
            for sliceno in range(2):
                dw.set_slice(sliceno)
                dw.write(sliceno * 100)
            dw.finish()
            return dw
        def analysis(sliceno, prepare_res):
            return list(Dataset(prepare_res).iterate(sliceno, "v"))
        def synthesis(analysis_res):
            return list(analysis_res)
    """,
    )
    assert dask_wd.build("early", relay=_quiet).load() == [[0], [100]]


def test_an_unreachable_scheduler_fails_the_job_naming_the_address(
    tmp_path, methods_dir, write_method
):
    import dask

    write_method("sums", SUMS)
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        accnb.Workdir(
            tmp_path / "nowhere",
            slices=2,
            methods=[methods_dir],
            executor=DaskExecutor("tcp://127.0.0.1:9"),
        ) as workdir,
    ):
        with pytest.raises(JobError, match="could not connect to the Dask scheduler at"):
            workdir.build("sums", relay=_quiet)
        assert _finished_jobs(workdir) == []


def test_slices_run_in_the_job_directory(dask_wd, write_method):
    write_method(
        "files",
        """
        import os
        def analysis(sliceno):
            with open(f"note.{sliceno}", "w") as fh:
                fh.write("written on a worker")
            return os.getcwd()

        def synthesis(analysis_res):
            return list(analysis_res)
    """,
    )
    job = dask_wd.build("files", relay=_quiet)
    assert job.load() == [str(job.path)] * 2
    assert job.files("note.*") == ["note.0", "note.1"]


def test_the_workdir_magic_sends_slices_to_the_cluster_it_names(cluster, tmp_path):
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    cluster.wait_for_workers(2, timeout=60)
    nb = new_notebook(
        cells=[
            new_code_cell(
                f"%load_ext accnb\nwd = %accnb workdir wd --slices 2 --dask {cluster.scheduler.address}"
            ),
            new_code_cell(
                "%%accmethod where\nimport os\ndef analysis(sliceno):\n    return os.getppid()\n"
                "def synthesis(analysis_res):\n    return list(analysis_res)"
            ),
            new_code_cell(
                "import os\nprint(type(wd.executor).__name__, os.getpid() not in build('where').load())"
            ),
        ]
    )
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    printed = "".join(o.text for o in nb.cells[2].outputs if o.output_type == "stream")
    assert printed.strip().splitlines()[-1] == "DaskExecutor True"
