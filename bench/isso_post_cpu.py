"""Isso 0.14's comment POST, in process: the CPU a post costs, for bench/post_floor.py.

Runs in Isso's own environment (bench/.isso-venv), so it imports nothing of ours:

    bench/.isso-venv/bin/python bench/isso_post_cpu.py ISSO_CFG BODIES.jsonl WARM_UP

Posts each line of BODIES (Isso's JSON comments, as bench/serving.py writes them) through
Werkzeug's test client, the first WARM_UP unmeasured, and prints the CPU a measured post in ms.
"""

import json
import os
import sys
import time


def main() -> None:
    settings, bodies, warm_up = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.environ["ISSO_SETTINGS"] = settings
    from isso.run import application
    from werkzeug.test import Client

    client = Client(application)
    with open(bodies, encoding="utf-8") as lines:
        posts = [line.strip() for line in lines if line.strip()]
    headers = {"Content-Type": "application/json", "X-Forwarded-For": "10.0.0.1"}

    def post(body: str) -> None:
        answer = client.post("/new?uri=%2Fbench-article", data=body, headers=headers)
        assert answer.status_code in (201, 202), answer.status_code

    for body in posts[:warm_up]:
        post(body)
    measured = posts[warm_up:]
    cpu = time.process_time()
    for body in measured:
        post(body)
    print(json.dumps({"cpu_ms": (time.process_time() - cpu) / len(measured) * 1000}))


if __name__ == "__main__":
    main()
