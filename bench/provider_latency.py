"""Spawn-to-running of an agent through the e2b provider against the same
through the local provider, interleaved (bench/e2b_provider.sh)."""
import json
import statistics
import sys
import time
import urllib.request

via_e2b, local, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])


def call(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, method=method, data=data,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


def spawn_to_running(url):
    t0 = time.perf_counter()
    a = call("POST", url + "/api/cloud/spawn",
             {"template_id": "base", "command": ["sleep", "60"], "timeout_sec": 120})
    while call("GET", url + "/api/agents/" + a["id"])["status"] == "pending":
        time.sleep(0.0005)
    ms = (time.perf_counter() - t0) * 1000
    call("DELETE", url + "/api/cloud/" + a["id"])
    return ms


res = {"e2b": [], "local": []}
for _ in range(runs):
    res["e2b"].append(spawn_to_running(via_e2b))
    res["local"].append(spawn_to_running(local))
for name, v in res.items():
    v.sort()
    print("%-5s n=%d p50=%.1f ms p90=%.1f ms p99=%.1f ms" %
          (name, len(v), statistics.median(v), v[int(len(v) * .9)], v[min(len(v) - 1, int(len(v) * .99))]))
print("ratio e2b/local p50 = %.2f" % (statistics.median(res["e2b"]) / statistics.median(res["local"])))
