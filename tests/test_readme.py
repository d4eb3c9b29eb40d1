"""Every ```python block of README.md runs as a script, prints, and does not warn.

A reader copies a README example into a file and runs it; what they see is
what this test checks.  The rules for a ``python`` block (``bash`` and other
blocks are illustrative and skipped):

1. It is a complete script: it runs on its own, in a fresh process, from an
   empty temporary folder (not the checkout), and exits with status 0.
2. It prints what it shows: a value the text claims goes through ``print``
   (a script has no prompt to echo a bare expression), so its standard
   output is not empty.
3. It does not warn, under Python's default warning filters (what a user
   running it would see).  A block that warns on purpose says so, and why,
   in a comment naming the category, e.g.
   ``# expected warning: ConvergenceWarning -- max_iter=5 stops early``;
   then that warning must occur and no other.

Blocks run one per test, so a failure names the README section.
"""

import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
TIMEOUT_S = 600  # a cold Numba cache compiles for several seconds per dtype; ONNX imports slowly

# A fenced block, also indented (inside a list item): the closing fence has the same indent.
_FENCE = re.compile(r"^([ \t]*)```(\S*)[^\n]*\n(.*?)^\1```[ \t]*$", re.S | re.M)
_HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.M)
# How the warnings module prints one: "path:line: Category: message".
_WARNING_LINE = re.compile(r"^.*?:\d+: ([A-Za-z_][\w.]*Warning): ", re.M)
_EXPECTED = re.compile(r"#\s*expected warning:\s*([A-Za-z_][\w.]*Warning)")


def python_blocks(text):
    """The ```python blocks of a markdown text.

    Parameters
    ----------
    text : str

    Returns
    -------
    list of (str, str)
        ``(label, code)`` per block: the nearest heading above it (with a
        counter when a section has several) and the code.
    """
    headings = [(m.start(), m.group(1)) for m in _HEADING.finditer(text)]
    blocks, seen = [], {}
    for m in _FENCE.finditer(text):
        if m.group(2).lower() != "python":
            continue
        above = [h for pos, h in headings if pos < m.start()]
        label = above[-1] if above else "top"
        seen[label] = seen.get(label, 0) + 1
        code = textwrap.dedent(m.group(3))
        blocks.append((label if seen[label] == 1 else f"{label} #{seen[label]}", code))
    return blocks


def warning_categories(stderr):
    """Categories of the warnings printed in ``stderr`` (short names, in order)."""
    return [c.rsplit(".", 1)[-1] for c in _WARNING_LINE.findall(stderr)]


def _ids(blocks):
    return [re.sub(r"[^0-9A-Za-z#]+", "-", label).strip("-") for label, _ in blocks]


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_python_blocks():
    # The parser must find the examples (a broken regex would make the test below vacuous).
    labels = [label for label, _ in BLOCKS]
    assert len(BLOCKS) >= 5, labels
    assert any("Celsius" in label for label in labels)


def test_the_checks_catch_a_silent_or_warning_block():
    text = ("## A\n```python\nx = 1\n```\n```bash\nls\n```\n## B\n```python\nprint(2)\n```\n"
            "- item\n\n  ```python\n  if x:\n      print(3)\n  ```\n")
    assert python_blocks(text) == [("A", "x = 1\n"), ("B", "print(2)\n"),
                                   ("B #2", "if x:\n    print(3)\n")]
    stderr = ("/tmp/x.py:3: ConvergenceWarning: Stochastic Optimizer: Maximum iterations\n"
              "  warnings.warn(\n/tmp/y.py:1: sklearn.exceptions.DataConversionWarning: a\n")
    assert warning_categories(stderr) == ["ConvergenceWarning", "DataConversionWarning"]


@pytest.mark.parametrize("label, code", BLOCKS, ids=_ids(BLOCKS))
def test_readme_block_runs_as_a_script(label, code, tmp_path):
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}  # the default filters
    # One BLAS thread: on a busy 2-core machine two spinning OpenBLAS threads made the digits
    # example 5x slower; what the blocks print and warn does not depend on it.
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, f"README block under {label!r} failed:\n{proc.stderr}"
    assert proc.stdout.strip(), (
        f"README block under {label!r} prints nothing: show its results with print()")
    expected = sorted(set(_EXPECTED.findall(code)))
    got = warning_categories(proc.stderr)
    assert sorted(set(got)) == expected, (
        f"README block under {label!r} warned {got} (expected {expected or 'none'}); "
        "fix the example, or name the warning and why in a '# expected warning: ...' "
        f"comment:\n{proc.stderr}")
