"""The dependency rules of README's architecture map hold (import-linter contracts in
pyproject.toml).

import-linter reads every import, those inside functions included, so a cycle cannot
be hidden by importing late.
"""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_contract_is_kept():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"
    ]
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    kept = [line for line in report.splitlines() if line.rstrip().endswith("KEPT")]
    assert len(kept) == len(contracts), report
