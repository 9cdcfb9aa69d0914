"""One measurement in its own process: `python -m bench.worker '<json spec>'`.

A fresh process per measurement keeps the peak-memory figure honest (nothing left over from
building the data) and mirrors how a scheduled job runs. The result is the last stdout line,
prefixed with RESULT_TAG.
"""

import json
import os
import sys

RESULT_TAG = "BENCH-RESULT "


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    # Anything that reads the settings sees the database under test.
    os.environ["HPF_DATABASE_URL"] = spec["url"]
    from hpf.config import get_settings

    get_settings.cache_clear()
    from bench.measure import MEASUREMENTS

    func = MEASUREMENTS[(spec["benchmark"], spec["side"])]
    if spec.get("setup_sql"):
        from hpf.kit import db

        with db.make_engine(spec["url"]).begin() as conn:
            for sql in spec["setup_sql"]:
                conn.exec_driver_sql(sql)
    kwargs = {}
    if spec["side"] == "job":
        kwargs["verify_books"] = False  # checked below, outside the statement profile
        if spec["benchmark"] in ("interest", "remit-debit") and spec.get("chunk_size"):
            kwargs["chunk_size"] = spec["chunk_size"]
    profile = None
    if spec.get("profile"):
        from bench.sqlprofile import SqlProfile
        from hpf.kit import db

        profile = SqlProfile(db.make_engine(spec["url"]))
    result = func(spec["url"], **kwargs)
    if profile is not None:
        profile.close()
        result["sql_profile"] = {"total_s": round(profile.total_s(), 2), "top": profile.top()}
    if spec["side"] == "job" and spec.get("verify", True):
        from bench.measure import check_books

        result.update(check_books(spec["url"]))
    print(RESULT_TAG + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
