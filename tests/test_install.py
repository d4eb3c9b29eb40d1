"""The editable install finds fastnet from any folder (tools/fastnet_build.py).

A script saved in the folder that holds the clone sees the clone -- a folder
named ``fastnet`` without an ``__init__.py`` -- as an empty namespace package
before setuptools' editable import hook is asked, and ``from fastnet import
MLPClassifier`` fails.  The build backend adds a finder that is asked first.
These tests build that finder into a small wheel, install its files into a
site folder of their own and import through it in fresh processes, with the
project's real installation hooks taken out of the way.
"""

import base64
import hashlib
import json
import pathlib
import shutil
import subprocess
import sys
import textwrap
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
pytest.importorskip("setuptools.build_meta")  # the backend wraps it (absent from some venvs)
sys.path.insert(0, str(ROOT / "tools"))
import fastnet_build  # noqa: E402

sys.path.remove(str(ROOT / "tools"))

# The child: drop every editable-install finder this environment already has (the
# project's own install), optionally process the test's site folder, then import.
_CHILD = textwrap.dedent("""
    import json, site, sys
    sys.meta_path[:] = [f for f in sys.meta_path
                        if not getattr(f, "__module__", "").startswith("__editable__")]
    for name in [m for m in sys.modules if m.startswith(("__editable__", "fastnet"))]:
        del sys.modules[name]
    if len(sys.argv) > 1:
        sys.path.insert(0, sys.argv[1])
        site.addsitedir(sys.argv[1])   # runs the .pth files there, as at startup
    if len(sys.argv) > 2:
        sys.path.insert(1, sys.argv[2])  # a folder holding a regular fastnet package
    out = {}
    try:
        from fastnet import MLPClassifier
        import fastnet.kernels
        out["fastnet"] = fastnet.__file__
        out["kernels"] = fastnet.kernels.__file__
        out["estimator"] = MLPClassifier.__name__
    except ImportError as exc:
        out["error"] = str(exc)
    try:
        import kernels
        out["top_level_kernels"] = kernels.__file__
    except ImportError:
        out["top_level_kernels"] = None
    print("RESULT" + json.dumps(out))
""")


def _clone_layout(tmp_path):
    """``parent/fastnet/{fastnet,kernels}``: a clone named fastnet, as ``git clone`` makes it."""
    clone = tmp_path / "parent" / "fastnet"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "fastnet", clone / "fastnet", ignore=ignore)
    shutil.copytree(ROOT / "kernels", clone / "kernels", ignore=ignore)
    (tmp_path / "parent" / "script.py").write_text(_CHILD)
    return clone


def _run_script(parent, *args):
    proc = subprocess.run([sys.executable, str(parent / "script.py"), *map(str, args)],
                          cwd=parent, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


def _editable_wheel(path, clone):
    """A minimal wheel with a RECORD, run through the backend's post-processing."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("__editable__.fastnet-0.1.0.pth", "# setuptools' own line\n")
        zf.writestr("fastnet-0.1.0.dist-info/METADATA", "Name: fastnet\n")
        zf.writestr("fastnet-0.1.0.dist-info/RECORD", "stale\n")
    fastnet_build.add_front_finder(
        str(path), {pkg: str(clone / folder) for pkg, folder in fastnet_build.PACKAGES.items()})


def test_record_lists_every_file_with_its_hash(tmp_path):
    clone = _clone_layout(tmp_path)
    wheel = tmp_path / "fastnet-0.1.0-0.editable-py3-none-any.whl"
    _editable_wheel(wheel, clone)
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        record = zf.read("fastnet-0.1.0.dist-info/RECORD").decode().splitlines()
        contents = {n: zf.read(n) for n in names}
    assert sorted(names) == sorted(set(names))  # nothing written twice
    assert {"__editable___fastnet_first.py", "__editable___fastnet_first.pth",
            "__editable__.fastnet-0.1.0.pth"} <= set(names)
    rows = dict(line.split(",", 1) for line in record)
    assert set(rows) == set(names)
    assert rows["fastnet-0.1.0.dist-info/RECORD"] == ","
    for name, data in contents.items():
        if name.endswith("RECORD"):
            continue
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert rows[name] == f"sha256={digest},{len(data)}", name


def test_script_beside_the_clone_imports_fastnet(tmp_path):
    clone = _clone_layout(tmp_path)
    parent = clone.parent
    # Without the front finder the clone folder shadows the package: the reported bug.
    before = _run_script(parent)
    assert "cannot import name 'MLPClassifier'" in before.get("error", ""), before

    wheel = tmp_path / "fastnet-0.1.0-0.editable-py3-none-any.whl"
    _editable_wheel(wheel, clone)
    site_dir = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site_dir)
    after = _run_script(parent, site_dir)
    assert "error" not in after, after
    assert after["estimator"] == "MLPClassifier"
    assert after["fastnet"] == str(clone / "fastnet" / "__init__.py")
    assert after["kernels"] == str(clone / "kernels" / "__init__.py")
    # Only fastnet's two names are mapped: a top-level `kernels` stays unimportable
    # (a different package of that name exists on PyPI).
    assert after["top_level_kernels"] is None


def test_a_regular_fastnet_found_on_sys_path_still_wins(tmp_path):
    # The finder replaces only the empty namespace package: a real fastnet package that
    # Python's search finds (here a copy on the path, as PYTHONPATH would put it) is used.
    clone = _clone_layout(tmp_path)
    copy = tmp_path / "copy"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "fastnet", copy / "fastnet", ignore=ignore)
    shutil.copytree(ROOT / "kernels", copy / "fastnet" / "kernels", ignore=ignore)
    wheel = tmp_path / "fastnet-0.1.0-0.editable-py3-none-any.whl"
    _editable_wheel(wheel, clone)
    site_dir = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site_dir)
    got = _run_script(clone.parent, site_dir, copy)
    assert got.get("fastnet") == str(copy / "fastnet" / "__init__.py"), got
    assert got["kernels"] == str(copy / "fastnet" / "kernels" / "__init__.py")


def test_backend_packages_match_pyproject():
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools_cfg = config["tool"]["setuptools"]
    assert sorted(setuptools_cfg["packages"]) == sorted(fastnet_build.PACKAGES)
    dirs = {pkg: setuptools_cfg.get("package-dir", {}).get(pkg, pkg.replace(".", "/"))
            for pkg in setuptools_cfg["packages"]}
    assert dirs == fastnet_build.PACKAGES
    build = config["build-system"]
    assert build["build-backend"] == "fastnet_build" and build["backend-path"] == ["tools"]
