"""Every setting is in the README's table of settings, and the table names no setting that is
gone: operators read the table, not the code."""

import re

from app.config import Settings
from tests.conftest import ROOT


def test_the_readme_documents_every_setting_and_only_those() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"`(MUSTER_[A-Z_]+)`", readme))
    settings = {f"MUSTER_{name.upper()}" for name in Settings.model_fields}
    assert settings - documented == set(), "settings missing from the README"
    tested_only = {name for name in documented if name.startswith("MUSTER_TEST_")}
    assert documented - settings - tested_only == set(), "README names settings that are gone"
