"""The teaching site, built once per session for the teaching tests of this folder."""

import pytest
import teaching_site


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """Results for the loss page, the teaching numbers, every page and the index, in one folder."""
    return teaching_site.build(tmp_path_factory.mktemp("teaching_site"))
