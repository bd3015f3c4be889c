"""`make audit`: known vulnerabilities in the locked dependencies, failing when nothing was audited.

pip-audit reports "No known vulnerabilities found" even when it could reach no vulnerability
database and skipped every package; counting that as a pass would be a lie, so this script
reads its JSON report and fails unless every locked package was actually checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "runtime.lock"
NPM_LOCK = ROOT / "package-lock.json"


def audit_python() -> bool:
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip_audit",
                "-r",
                str(LOCK),
                "--require-hashes",
                "--disable-pip",
                "--format",
                "json",
                "-o",
                report.name,
            ],
            check=False,
        )
        try:
            result = json.loads(Path(report.name).read_text() or "{}")
        except json.JSONDecodeError:
            result = {}
    dependencies = result.get("dependencies", [])
    skipped = [d["name"] for d in dependencies if d.get("skip_reason")]
    audited = [d for d in dependencies if not d.get("skip_reason")]
    vulnerable = [d for d in audited if d.get("vulns")]
    print(
        f"Python: {len(audited)} packages audited, {len(skipped)} skipped, "
        f"{len(vulnerable)} with known vulnerabilities"
    )
    for dependency in vulnerable:
        ids = ", ".join(v["id"] for v in dependency["vulns"])
        print(f"  {dependency['name']} {dependency['version']}: {ids}")
    if skipped:
        print("  not audited (no vulnerability database reachable?): " + ", ".join(skipped))
    return bool(audited) and not skipped and not vulnerable


def audit_npm() -> bool:
    if not NPM_LOCK.exists():
        print(f"npm: {NPM_LOCK.name} is missing, so nothing was audited")
        return False
    answer = subprocess.run(["npm", "audit", "--json"], cwd=ROOT, capture_output=True, text=True)
    try:
        report = json.loads(answer.stdout)
    except json.JSONDecodeError:
        report = {}
    counts = report.get("metadata", {}).get("vulnerabilities")
    if counts is None:
        print(f"npm: audit did not run: {answer.stderr.strip()[:300]}")
        return False
    total = sum(int(count) for count in counts.values())
    print(f"npm: {total} known vulnerabilities {counts}")
    return total == 0


def main() -> int:
    python_ok = audit_python()
    npm_ok = audit_npm()
    return 0 if python_ok and npm_ok else 1


if __name__ == "__main__":
    sys.exit(main())
