"""`make lab`: JupyterLab on notebooks/, with a kernel that has the warehouse connected.

`python -m movierec.lab` writes the kernel spec "movierec" into this environment (the venv's
share/jupyter/kernels: nothing outside the venv is touched) and starts JupyterLab on
notebooks/ with that kernel as the default. The kernel is this venv's Python with ipykernel; at
start-up it runs `kernel_startup()`: jupysql loaded, the warehouse opened read-only as `conn`
and registered with `%sql`, so a new notebook can start with `%sql select * from dim_movies`.
The committed notebooks open their own connection and run in it unchanged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

KERNEL_NAME = "movierec"


def kernel_spec_dir(prefix: str | os.PathLike = sys.prefix) -> Path:
    return Path(prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME


def install_kernel_spec(prefix: str | os.PathLike = sys.prefix) -> Path:
    """Write the "movierec" kernel spec under `prefix` (the venv) and return its folder."""
    folder = kernel_spec_dir(prefix)
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--IPKernelApp.exec_lines=import movierec.lab; movierec.lab.kernel_startup()",
        ],
        "display_name": "Python (movierec: jupysql + warehouse)",
        "language": "python",
        "env": {"PLOOMBER_STATS_ENABLED": "false", "PLOOMBER_VERSION_CHECK_DISABLED": "true"},
        "metadata": {"debugger": True},
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    return folder


def kernel_startup() -> None:
    """Run in the kernel at start: load jupysql and connect it to the warehouse, read-only.

    A missing warehouse is a message, not a failed kernel: the notebook still opens."""
    from IPython import get_ipython

    from movierec.warehouse import connect, warehouse_path

    shell = get_ipython()
    path = warehouse_path().resolve()
    try:
        conn = connect(path, read_only=True)
    except Exception as exc:  # no file yet, or a build holds it: say what to do
        print(f"movierec: warehouse not connected ({exc}); run `make demo`, then restart the kernel")
        return
    shell.user_ns["conn"] = conn
    shell.run_line_magic("load_ext", "sql")
    for setting in ("SqlMagic.autopandas = True", "SqlMagic.displaycon = False", "SqlMagic.feedback = 0"):
        shell.run_line_magic("config", setting)
    shell.run_line_magic("sql", "conn --alias warehouse")
    print(
        f"movierec: warehouse {path} connected read-only as `conn`; %sql and %%sql cells query it "
        "(e.g. %sql select * from mart_leaderboard). Shut the kernel down before a `dbt build`."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m movierec.lab", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument("--notebook-dir", default="notebooks")
    args = parser.parse_args(argv)

    # the kernels start in notebooks/: give them the warehouse as an absolute path
    os.environ["MOVIEREC_WAREHOUSE"] = str(
        Path(os.environ.get("MOVIEREC_WAREHOUSE") or "warehouse/movierec.duckdb").resolve()
    )
    install_kernel_spec()
    lab = Path(sys.executable).parent / "jupyter-lab"
    command = [
        str(lab),
        f"--notebook-dir={args.notebook_dir}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={args.port}",
        "--ServerApp.port_retries=0",
        f"--MappingKernelManager.default_kernel_name={KERNEL_NAME}",
    ]
    # nothing from the network: no update checks, no extension search on PyPI
    command += [
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if args.no_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI often run as root
        command.append("--allow-root")
    print(
        f"JupyterLab on {args.notebook_dir}/ at http://127.0.0.1:{args.port}/lab (the URL with its token follows); "
        f"kernel '{KERNEL_NAME}' has the warehouse {os.environ['MOVIEREC_WAREHOUSE']} connected. Ctrl-C stops.",
        flush=True,
    )
    os.execv(command[0], command)


if __name__ == "__main__":
    raise SystemExit(main())
