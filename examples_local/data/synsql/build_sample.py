"""Rebuild this demo folder from the real slices in tests/data/text2sql (see README.md here).

python examples_local/data/synsql/build_sample.py                    # data.json + tables.json
python examples_local/data/synsql/build_sample.py --with-databases   # + databases/ for --check-sql
"""

from __future__ import annotations

import argparse
from pathlib import Path

from trove_blocks.synsql.sample import build_sample_dir

HERE = Path(__file__).resolve().parent
REAL_DIR = HERE.parents[2] / "tests" / "data" / "text2sql"

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--with-databases", action="store_true", help="also create databases/<db_id>/<db_id>.sqlite")
    args = parser.parse_args()
    print(build_sample_dir(REAL_DIR, HERE, with_databases=args.with_databases))
