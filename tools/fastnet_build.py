"""fastnet's build backend: setuptools', plus an editable install that works from any folder.

Every PEP 517 / PEP 660 hook is setuptools' own (``setuptools.build_meta``):
wheels and sdists are built exactly as setuptools builds them.  Only
:func:`build_editable` adds something, two files in the editable wheel:

``__editable___fastnet_first.py``
    A meta-path finder that maps ``fastnet`` to the checkout's ``fastnet/``
    and ``fastnet.kernels`` to its ``kernels/`` (:data:`PACKAGES`).
``__editable___fastnet_first.pth``
    Puts that finder at the *front* of ``sys.meta_path`` when Python starts.

Why: the ``kernels/`` -> ``fastnet.kernels`` mapping of pyproject.toml makes
setuptools implement ``pip install -e .`` with an import hook that it
*appends* to ``sys.meta_path``, after Python's path finder.  A script run from
the folder that holds the clone (itself a folder named ``fastnet`` without an
``__init__.py``) then gets that folder as an empty namespace package before
the hook is asked, and ``from fastnet import MLPClassifier`` fails with
"cannot import name 'MLPClassifier' from 'fastnet' (unknown location)"
(setuptools issue #3557).  The finder here is asked first, and steps in only
where Python's own search would end in such an empty namespace package (or
in nothing): a regular ``fastnet`` package that the search finds -- the
checkout itself as the current folder, a copy on ``PYTHONPATH`` -- is
imported as it would be without it.  It knows only the two names above, so
``import kernels`` still fails outside the checkout (a different package of
that name is on PyPI); setuptools' own hook stays in the wheel as it was.

A wheel is a zip with a ``RECORD`` of every file's sha256 and size
(PEP 427); :func:`add_front_finder` adds the two files and rewrites the
``RECORD``, nothing else.  Passing ``--config-settings editable_mode=strict``
(or ``compat``) leaves setuptools' editable wheel untouched.
"""

import base64
import hashlib
import os
import zipfile

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F401,F403  (every other hook, unchanged)
from setuptools.build_meta import __all__  # noqa: F401

# Import name -> folder in the checkout.  The same mapping as pyproject.toml's
# [tool.setuptools] packages and package-dir (tests/test_install.py checks that).
PACKAGES = {"fastnet": "fastnet", "fastnet.kernels": "kernels",
            "fastnet.kernels.cuda": "kernels/cuda"}

FINDER_MODULE = "__editable___fastnet_first"

_FINDER_SOURCE = '''\
"""Finds fastnet in its checkout before anything on sys.path can shadow it.

Written by the editable install of fastnet (tools/fastnet_build.py in the
checkout); removed by ``pip uninstall fastnet``.
"""

import os
import sys
from importlib.machinery import PathFinder
from importlib.util import spec_from_file_location

MAPPING = {mapping!r}


class FastnetEditableFinder:
    """Meta-path finder for exactly the packages in MAPPING."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        folder = MAPPING.get(fullname)
        if folder is None:
            return None
        # Python's own search first: a regular package or module it finds wins, as it would
        # without this finder.  A namespace package (origin None) is the shadow to replace.
        found = PathFinder.find_spec(fullname, path)
        if found is not None and found.origin is not None:
            return None
        init = os.path.join(folder, "__init__.py")
        if not os.path.isfile(init):  # checkout moved or deleted: let the normal error happen
            return None
        return spec_from_file_location(fullname, init, submodule_search_locations=[folder])


def install():
    if FastnetEditableFinder not in sys.meta_path:
        sys.meta_path.insert(0, FastnetEditableFinder)
'''


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def add_front_finder(wheel_path, mapping):
    """Add the front-of-``sys.meta_path`` finder to an editable wheel, in place.

    Parameters
    ----------
    wheel_path : str
        An editable wheel as setuptools' ``build_editable`` wrote it.
    mapping : dict of str to str
        Import name -> absolute folder of that package in the checkout.
    """
    added = {
        f"{FINDER_MODULE}.py": _FINDER_SOURCE.format(mapping=dict(mapping)).encode(),
        f"{FINDER_MODULE}.pth": f"import {FINDER_MODULE}; {FINDER_MODULE}.install()\n".encode(),
    }
    with zipfile.ZipFile(wheel_path) as zin:
        entries = [(info, zin.read(info)) for info in zin.infolist()]
    record_name = next(info.filename for info, _ in entries
                       if info.filename.endswith(".dist-info/RECORD"))
    tmp_path = wheel_path + ".tmp"
    with zipfile.ZipFile(tmp_path, "w", zipfile.ZIP_DEFLATED) as zout:
        lines = []
        for info, data in entries:
            if info.filename == record_name or info.filename in added:
                continue
            zout.writestr(info, data)
            lines.append(_record_line(info.filename, data))
        for name, data in added.items():
            zout.writestr(name, data)
            lines.append(_record_line(name, data))
        lines.append(f"{record_name},,")  # RECORD lists itself without a hash
        zout.writestr(record_name, "\n".join(lines) + "\n")
    os.replace(tmp_path, wheel_path)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """PEP 660 hook: setuptools' editable wheel plus the front finder (module docstring)."""
    name = _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
    settings = config_settings or {}
    if not (settings.get("editable_mode") or settings.get("editable-mode")):
        root = os.path.abspath(os.getcwd())  # PEP 517: hooks run in the source tree's root
        add_front_finder(os.path.join(wheel_directory, name),
                         {pkg: os.path.join(root, folder) for pkg, folder in PACKAGES.items()})
    return name
