"""The package as a user installs it: a built wheel in a fresh virtualenv, and pip's resolution next
to an app's own elasticsearch-py 8.x. These build and resolve for real (pip, PyPI or its cache)."""
from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.packaging

READ_INSTALLED = """
import json, sys
import lrr_es.templates as t
print(json.dumps({
    "module": t.__file__,
    "templates": {name: t._template_file(name) for name in ("catalog",) + t.SYSTEM_INDICES},
    "scripts": {name: t.script_source(name) for name in t.script_names()},
    "roles": t._ROLE_PROTOTYPES,  # filled as the catalog template was read
}))
"""


def _pip(python: Path, *args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", *args], capture_output=True,
                          text=True, cwd=cwd)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


def _fresh_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=True).create(path)
    return path / "bin" / "python"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _pip(Path(sys.executable), "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT))
    return next(out.glob("lrr_es-*.whl"))


def test_the_wheel_carries_the_templates_scripts_and_node_recipe(wheel):
    import zipfile
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"lrr_es/index_templates/{p.name}" for p in (ROOT / "index_templates").glob("*.json")}
    shipped |= {f"lrr_es/painless/{p.name}" for p in (ROOT / "painless").glob("*.painless")}
    assert len(shipped) >= 6 and shipped <= names
    assert "lrr_es/devcluster/pom.xml" in names
    admin = ROOT / "lrr_es" / "admin"
    panel = {f"lrr_es/admin/{p.relative_to(admin)}" for p in (*admin.glob("templates/*.html"), *admin.glob("static/*"))}
    assert len(panel) >= 10 and panel <= names  # the admin panel's pages and stylesheet
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)


def test_an_installed_wheel_reads_every_template_and_script_from_its_own_copy(wheel, tmp_path):
    python = _fresh_venv(tmp_path / "venv")
    _pip(python, "install", "--no-deps", "-q", str(wheel))
    # the dependencies come from this test's environment, after the fresh venv's own packages; the
    # editable lrr_es of this environment is not on that path (its .pth is not read from PYTHONPATH)
    deps = next(p for p in sys.path if p.endswith("site-packages"))
    proc = subprocess.run([str(python), "-c", READ_INSTALLED], capture_output=True, text=True, cwd=tmp_path,
                          env={"PYTHONPATH": deps, "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout)
    assert found["module"].startswith(str(tmp_path / "venv"))
    for name, body in found["templates"].items():
        source = json.loads((ROOT / "index_templates" / f"{name}.json").read_text(encoding="utf-8"))
        source.pop("_comment", None)
        roles = source.pop("_roles", None)  # the domain-neutral role prototypes, read apart from the body
        assert body == source, name
        if roles is not None:
            roles.pop("_comment", None)
            assert found["roles"][name] == roles, name
    assert found["scripts"] == {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "painless").glob("*.painless")}


def test_installing_next_to_an_apps_elasticsearch_8_keeps_the_apps_client(tmp_path):
    python = _fresh_venv(tmp_path / "app")
    _pip(python, "install", "-q", "elasticsearch==8.15.1")
    report = tmp_path / "report.json"
    _pip(python, "install", "--dry-run", "--quiet", "--report", str(report), str(ROOT), cwd=tmp_path)
    planned = {item["metadata"]["name"].lower(): item["metadata"]["version"]
               for item in json.loads(report.read_text())["install"]}
    assert "lrr-es" in planned and "xgboost" in planned and "vowpalwabbit" in planned
    assert "elasticsearch" not in planned, f"pip would replace the app's elasticsearch 8.15.1 with {planned.get('elasticsearch')}"
