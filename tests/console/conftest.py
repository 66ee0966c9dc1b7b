from __future__ import annotations

import pytest
from flask import Flask

from tests.console.helpers import Console


@pytest.fixture
def console(app: Flask) -> Console:
    return Console(app.test_client())
