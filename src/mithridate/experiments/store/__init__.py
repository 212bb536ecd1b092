"""The experiment store: one SQLite file per run folder that holds every recipe, finished run, failure and
artifact of the sweep, `garbage` and `synthetic` (see `experiment_store`), and the reader of the two older
formats (`legacy`) that converts them."""

from .experiment_store import LEGACY_FILES, STORE_FILE, STORE_SCHEMA_VERSION, ExperimentStore, folder_store
from .sqlite_file import StoreError

__all__ = ["LEGACY_FILES", "STORE_FILE", "STORE_SCHEMA_VERSION", "ExperimentStore", "StoreError", "folder_store"]
