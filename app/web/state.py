"""The per-worker objects (AppState) the blueprints read, behind one typed accessor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:  # app/__init__.py builds the state and imports the blueprints: no runtime import back
    from app import AppState

STATE_KEY = "cnpg_mcp"


def app_state(app: Flask | None = None) -> AppState:
    """This worker's AppState (of the current app unless `app` is given)."""
    return (app or current_app).extensions[STATE_KEY]
