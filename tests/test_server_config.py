"""How the server is configured (issue 23): upload caps, error details, the address `make run` binds."""

from __future__ import annotations

import ast
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from mktsales import photos, uploads

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / ".streamlit/config.toml").read_text(encoding="utf-8"))


def test_the_server_wide_upload_cap_is_the_largest_file_a_feature_takes() -> None:
    assert uploads.PHOTO_MB == 5 and photos.MAX_PHOTO_BYTES == 5 * 1024 * 1024
    assert uploads.SERVER_MB == max(uploads.IMPORT_MB, uploads.PHOTO_MB) == 50
    assert CONFIG["server"]["maxUploadSize"] == uploads.SERVER_MB  # Streamlit's default is 200


def _file_uploader_calls() -> list[tuple[str, set[str]]]:
    found = []
    for path in [ROOT / "app.py", *ROOT.glob("app_pages/*.py"), *ROOT.glob("mktsales/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "file_uploader":
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", {k.arg for k in node.keywords}))
    return found


def test_every_file_widget_states_its_own_limit() -> None:
    calls = _file_uploader_calls()
    assert len(calls) == 3  # board photos, execution report photo, import file
    assert [where for where, keywords in calls if "max_upload_size" not in keywords] == []


def test_users_never_see_a_traceback() -> None:
    assert CONFIG["client"]["showErrorDetails"] == "none"


def _make_run(*overrides: str) -> str:
    if shutil.which("make") is None:
        pytest.fail("make is missing: the README's `make run` needs it", pytrace=False)
    done = subprocess.run(
        ["make", "-n", "run", *overrides], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.replace("\\\n", " ")


def test_make_run_serves_this_machine_only_by_default() -> None:
    command = _make_run()
    assert "--server.address=127.0.0.1" in command
    assert "--client.showErrorDetails=none" in command


def test_make_run_serves_the_network_and_tracebacks_only_when_asked() -> None:
    command = _make_run("HOST=0.0.0.0", "ERRORS=full")
    assert "--server.address=0.0.0.0" in command
    assert "--client.showErrorDetails=full" in command


def test_make_run_serves_the_app_behind_the_upload_gate() -> None:
    """`streamlit run app.py` would serve it without the gate (docs/security/uploads.md)."""
    assert "streamlit run serve.py " in _make_run()
    tree = ast.parse((ROOT / "serve.py").read_text(encoding="utf-8"))
    apps = [n.value for n in tree.body if isinstance(n, ast.Assign) and [t.id for t in n.targets] == ["app"]]
    assert len(apps) == 1 and ast.unparse(apps[0]) == "st.App('app.py', middleware=[Middleware(UploadGate)])"


def test_streamlits_xsrf_check_stays_on() -> None:
    assert CONFIG["server"].get("enableXsrfProtection", True) is True  # Streamlit's default: on
