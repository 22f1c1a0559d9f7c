"""Where the warehouse lives and how to open it.

One DuckDB file serves dbt, the API, notebooks and reports. Its path is
`warehouse/movierec.duckdb` under the project root unless `MOVIEREC_WAREHOUSE` names
another; `profiles.yml` reads the same variable, so dbt and Python always agree.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

ENV_VAR = "MOVIEREC_WAREHOUSE"
DEFAULT_PATH = Path("warehouse") / "movierec.duckdb"


def warehouse_path(path: str | os.PathLike | None = None) -> Path:
    """The warehouse file: `path` if given, else `$MOVIEREC_WAREHOUSE`, else the default."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)


def connect(path: str | os.PathLike | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse. Read-write opens create the file and its folder if needed."""
    target = warehouse_path(path)
    if read_only:
        if not target.exists():
            raise FileNotFoundError(
                f"warehouse {target} does not exist: run `make demo` or `movierec ingest DIR` and `dbt build` first"
            )
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(target), read_only=read_only)
