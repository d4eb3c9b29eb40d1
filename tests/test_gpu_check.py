"""The GPU check script and the test command, without a GPU.

``bench/gpu_check.sh`` runs every GPU check on a machine with an NVIDIA GPU;
its ``--simulate`` mode runs the same steps here: the ``tests_cuda/`` suite
under Numba's CUDA simulator and the bench at a tiny size.  Checked: the
script parses, refuses a bad command line, imports fastnet from its own shim
(the checkout's root has no ``fastnet.kernels``), writes the environment,
the test logs and a summary, and its exit status and summary report each
step's real outcome.  Also: ``.ci/run`` runs exactly the README's test command.
"""

import os
import pathlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "gpu_check.sh"
README = ROOT / "README.md"


def _readme_test_command():
    """The test line of the README's "The two commands" block, split at ``&&``."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    line = next(ln for ln in block.splitlines() if "pytest" in ln)
    return [part.strip() for part in line.split("#", 1)[0].split("&&")]


def test_ci_runs_the_readme_test_command():
    commands = _readme_test_command()
    assert commands == ["python -m pytest -q",
                        "NUMBA_ENABLE_CUDASIM=1 python -m pytest -q tests_cuda"]
    ci = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    for command in commands:
        # Each command on a line of its own, its failure recorded (`|| status=$?`).
        assert f"{command} || status=$?" in ci, command
    assert ci[-1] == 'exit "$status"'


def test_the_script_parses_and_refuses_a_bad_command_line(tmp_path):
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    proc = subprocess.run(["bash", str(SCRIPT), "one", "two"], capture_output=True, text=True)
    assert proc.returncode == 2 and "usage: bash bench/gpu_check.sh" in proc.stderr
    proc = subprocess.run(["bash", str(SCRIPT), "--real"], capture_output=True, text=True)
    assert proc.returncode == 2 and "usage" in proc.stderr


def _bench_takes_device():
    proc = subprocess.run([sys.executable, "-m", "bench", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    return "--device" in proc.stdout


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the script needs Python >= 3.11 "
                    "(PYTHONSAFEPATH)")
def test_simulate_mode_runs_every_step_and_reports_each(tmp_path):
    out = tmp_path / "gpu-check"
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_ENABLE_CUDASIM", "FASTNET_CUDA_TESTS", "PYTHONPATH")}
    env["PYTHON"] = sys.executable
    proc = subprocess.run(["bash", str(SCRIPT), "--simulate", str(out)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    summary = (out / "summary.md").read_text()
    rows = dict(re.findall(r"^\| (\w+) \| ([^|]+) \|", summary, re.M))
    assert set(rows) == {"step", "env", "tests_cuda", "bench"}, summary

    # The environment: fastnet from the script's shim, not from the checkout (whose root
    # folder fastnet/ has no kernels/), the versions and the BLAS kernel.
    env_txt = (out / "env.txt").read_text()
    shim = re.search(r"^fastnet \S+ from (\S+)/fastnet/__init__\.py kernels from (\S+)$",
                     env_txt, re.M)
    assert shim, env_txt
    assert not shim.group(1).startswith(str(ROOT)) and shim.group(2).startswith(shim.group(1))
    assert re.search(r"^numba \d", env_txt, re.M) and "nvidia-smi" in env_txt
    assert re.search(r"^BLAS: openblas", env_txt, re.M)
    assert rows["env"] == "passed"

    # tests_cuda under the simulator: passed, with the device check among the tests run.
    assert rows["tests_cuda"] == "passed", (out / "tests_cuda.log").read_text()[-3000:]
    suite = ET.parse(out / "tests_cuda.xml").getroot().find("testsuite")
    assert int(suite.get("tests")) >= 1
    assert int(suite.get("failures")) == 0 and int(suite.get("errors")) == 0
    names = {case.get("name") for case in suite.iter("testcase")}
    assert "test_the_device_is_the_one_this_run_asked_for" in names

    # The bench: passes where it takes --device (writing its report), fails -- and so
    # does the whole script -- where it does not.
    if _bench_takes_device():
        assert rows["bench"] == "passed", (out / "bench.log").read_text()[-3000:]
        assert (out / "bench" / "results.md").is_file()
        assert proc.returncode == 0, proc.stdout[-3000:]
    else:
        assert rows["bench"].startswith("FAILED (exit 2)")
        assert "--device" in (out / "bench.log").read_text()
        assert proc.returncode == 1
